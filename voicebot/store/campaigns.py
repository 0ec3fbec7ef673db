"""Campaigns, leads, attempts, do-not-call lists and the audit trail.

Every method is one transaction. ``claim`` is the heart of the dialer: it picks
due leads with row locks that skip rows another worker holds (PostgreSQL; on
SQLite the single writer does the same), applies the dial rules to each inside
the same transaction, and writes the attempt *before* anything is dialed. A
lead moves from ``pending`` to ``dialing`` only by a conditional update, so two
workers can never both dial it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Table,
    bindparam,
    cast,
    column,
    func,
    insert,
    select,
    update,
    values,
)
from sqlalchemy.orm import Session, sessionmaker

from voicebot.campaign.leads import ImportedLead
from voicebot.campaign.retry import LeadStatus, Next, after_skip
from voicebot.campaign.rules import Lead, Policy
from voicebot.errors import CampaignError
from voicebot.store.adhoc import AdhocCalls
from voicebot.store.audit import AUDIT, AuditEntry, AuditTrail, _audit, _audit_values
from voicebot.store.dnc import GLOBAL, DncEntry, DoNotCallLists, _blocked, _chunks
from voicebot.store.history import call_history
from voicebot.store.models import AttemptRow, Call, CampaignRow, LeadRow, WorkerRow
from voicebot.store.models import aware as _aware
from voicebot.store.workers import WorkerBeats

__all__ = ["GLOBAL", "AuditEntry", "CampaignRepo", "Claim", "DncEntry", "InFlight", "LeadInfo"]

LEADS: Table = LeadRow.__table__  # type: ignore[assignment]
#: Due leads a claim locks and looks at beyond its limit (the rules may turn some away; those
#: are rescheduled in bulk). Small enough that workers sharing a campaign rarely wait on each other.
BATCH_SLACK = 100
#: Attempts older than this never matter to the caps but the lifetime one (counted apart).
RECENT = timedelta(days=8)
#: state -> the states an operator may move it to
TRANSITIONS = {
    "created": {"running", "stopped"},
    "running": {"paused", "stopped", "finished"},
    "paused": {"running", "stopped"},
    "stopped": {"running"},
    "finished": {"running"},
}


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    id: str
    name: str
    state: str
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LeadInfo:
    id: int
    campaign_id: str
    phone: str
    name: str
    timezone: str
    fields: dict[str, Any]
    consent_source: str | None
    consent_at: datetime | None
    consent_evidence: str | None
    status: str
    next_at: datetime | None
    attempts: int
    last_disposition: str | None
    last_outcome: str | None
    last_reason: str | None
    grade: str | None
    source: str | None


@dataclass(frozen=True, slots=True)
class Claim:
    """A lead this worker may dial now; its attempt (keyed by the call id) is already written."""

    call_id: str
    lead: LeadInfo


@dataclass(frozen=True, slots=True)
class InFlight:
    call_id: str
    lead_id: int
    campaign_id: str
    phone: str
    worker: str
    started_at: datetime


def _lead(row: Any) -> LeadInfo:
    return LeadInfo(**{f.name: _aware(getattr(row, f.name)) for f in dataclasses.fields(LeadInfo)})


def _existing(s: Session, campaign_id: str) -> CampaignRow:
    row = s.get(CampaignRow, campaign_id)
    if row is None:
        raise CampaignError(
            f"no campaign {campaign_id!r}",
            hint="create it: voicebot campaign create FILE.yml (list them: voicebot campaign status)",
        )
    return row


def _campaign(row: CampaignRow) -> CampaignInfo:
    return CampaignInfo(
        row.id, row.name, row.state, dict(row.definition), _aware(row.created_at), _aware(row.updated_at)
    )


class CampaignRepo(DoNotCallLists, AuditTrail, WorkerBeats, AdhocCalls):
    """Campaigns, leads and attempts; the do-not-call lists, the audit, the workers' heartbeats and
    the rule check of calls outside campaigns are its parts."""

    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    # -- campaigns --------------------------------------------------------------------
    def save_campaign(
        self, campaign_id: str, name: str, definition: dict[str, Any], actor: str
    ) -> CampaignInfo:
        now = self._now()
        with self._sessions.begin() as s:
            row = s.get(CampaignRow, campaign_id)
            if row is None:
                row = CampaignRow(
                    id=campaign_id,
                    name=name,
                    definition=definition,
                    state="created",
                    created_at=now,
                    updated_at=now,
                )
                s.add(row)
                _audit(s, now, actor, "campaign_created", campaign_id=campaign_id)
            else:
                row.name, row.definition, row.updated_at = name, definition, now
                _audit(s, now, actor, "campaign_updated", campaign_id=campaign_id)
            s.flush()
            return _campaign(row)

    def campaign(self, campaign_id: str) -> CampaignInfo:
        with self._sessions() as s:
            return _campaign(_existing(s, campaign_id))

    def campaigns(self, state: str | None = None) -> list[CampaignInfo]:
        with self._sessions() as s:
            q = select(CampaignRow).order_by(CampaignRow.created_at)
            if state is not None:
                q = q.where(CampaignRow.state == state)
            return [_campaign(r) for r in s.scalars(q)]

    def set_state(self, campaign_id: str, state: str, actor: str, reason: str = "") -> CampaignInfo:
        now = self._now()
        with self._sessions.begin() as s:
            row = _existing(s, campaign_id)
            if state != row.state:
                if state not in TRANSITIONS.get(row.state, set()):
                    allowed = ", ".join(sorted(TRANSITIONS.get(row.state, set()))) or "nothing"
                    raise CampaignError(
                        f"campaign {campaign_id!r} is {row.state}; it cannot become {state}",
                        hint=f"from {row.state} it can become: {allowed}",
                    )
                row.state, row.updated_at = state, now
                _audit(s, now, actor, f"campaign_{state}", reason, campaign_id=campaign_id)
            s.flush()
            return _campaign(row)

    # -- leads ------------------------------------------------------------------------
    def import_leads(
        self, campaign_id: str, leads: Sequence[ImportedLead], source: str, actor: str
    ) -> tuple[int, int]:
        """Insert new leads and merge into existing ones (same campaign and number): (new, merged)."""
        now = self._now()
        with self._sessions.begin() as s:
            _existing(s, campaign_id)
            existing = {
                r.phone: r
                for chunk in _chunks([lead.phone for lead in leads])
                for r in s.scalars(
                    select(LeadRow).where(LeadRow.campaign_id == campaign_id, LeadRow.phone.in_(chunk))
                )
            }
            new = merged = 0
            for lead in leads:
                row = existing.get(lead.phone)
                if row is None:
                    s.add(
                        LeadRow(
                            campaign_id=campaign_id,
                            phone=lead.phone,
                            name=lead.name,
                            timezone=lead.timezone,
                            fields=dict(lead.fields),
                            consent_source=lead.consent_source,
                            consent_at=lead.consent_at,
                            consent_evidence=lead.consent_evidence,
                            status=LeadStatus.PENDING.value,
                            next_at=now,
                            attempts=0,
                            source=f"{source}:{lead.line}",
                            created_at=now,
                            updated_at=now,
                        )
                    )
                    new += 1
                    continue
                merged += 1
                row.name = lead.name or row.name
                row.timezone = lead.timezone or row.timezone
                row.fields = {**row.fields, **lead.fields}
                if lead.consent_source:
                    row.consent_source = lead.consent_source
                    row.consent_at = lead.consent_at
                    row.consent_evidence = lead.consent_evidence
                    if row.status == LeadStatus.NO_CONSENT:
                        row.status, row.next_at = LeadStatus.PENDING.value, now
                row.updated_at = now
            _audit(
                s,
                now,
                actor,
                "import",
                source,
                campaign_id=campaign_id,
                detail={"new": new, "merged": merged},
            )
        return new, merged

    def leads(self, campaign_id: str, status: str | None = None, limit: int | None = None) -> list[LeadInfo]:
        with self._sessions() as s:
            q = select(LeadRow).where(LeadRow.campaign_id == campaign_id).order_by(LeadRow.id)
            if status is not None:
                q = q.where(LeadRow.status == status)
            return [_lead(r) for r in s.scalars(q.limit(limit))]

    def lead(self, lead_id: int) -> LeadInfo | None:
        with self._sessions() as s:
            row = s.get(LeadRow, lead_id)
            return _lead(row) if row else None

    # -- dialing ----------------------------------------------------------------------
    def claim(
        self,
        campaign_id: str,
        policy: Policy,
        default_zone: str,
        worker: str,
        limit: int,
        now: datetime | None = None,
    ) -> tuple[list[Claim], int]:
        """Up to ``limit`` leads to dial at ``now``, their attempts written; and how many were skipped."""
        now = now or self._now()
        with self._sessions.begin() as s:
            state = s.scalar(select(CampaignRow.state).where(CampaignRow.id == campaign_id))
            if state != "running" or limit <= 0:
                return [], 0
            # plain rows, not ORM objects: a full pass over a big campaign reads many
            batch: list[Any] = list(
                s.execute(
                    select(*LEADS.columns)
                    .where(
                        LeadRow.campaign_id == campaign_id,
                        LeadRow.status == LeadStatus.PENDING.value,
                        LeadRow.next_at <= now,
                    )
                    .order_by(LeadRow.next_at, LeadRow.id)
                    .limit(limit * 4 + BATCH_SLACK)
                    .with_for_update(skip_locked=True)
                )
            )
            if not batch:
                return [], 0
            phones = [r.phone for r in batch]
            blocked = _blocked(s, phones, campaign_id)
            recent, totals = call_history(s, phones, now - RECENT)
            chosen: list[Any] = []
            skips: list[tuple[Any, Next]] = []
            for row in batch:
                decision = policy.decide(
                    Lead(
                        row.phone,
                        row.timezone or default_zone,
                        consent=row.consent_source is not None,
                        attempts=row.attempts,
                    ),
                    now,
                    recent.get(row.phone, ()),
                    blocked,
                    lifetime_attempts=totals.get(row.phone, 0),
                )
                if not decision.allowed:
                    skips.append((row, after_skip(decision)))
                elif len(chosen) < limit:
                    chosen.append(row)
            self._skip(s, skips, now, worker)
            return self._take(s, chosen, campaign_id, now, worker), len(skips)

    def _take(self, s: Session, rows: list[Any], campaign_id: str, now: datetime, worker: str) -> list[Claim]:
        """pending -> dialing for rows no other worker took meanwhile; attempts and audit written."""
        if not rows:
            return []
        taken = set(
            s.scalars(
                update(LeadRow)
                .where(LeadRow.id.in_([r.id for r in rows]), LeadRow.status == LeadStatus.PENDING.value)
                .values(status=LeadStatus.DIALING.value, attempts=LeadRow.attempts + 1, updated_at=now)
                .returning(LeadRow.id)
                .execution_options(synchronize_session=False)
            )
        )
        rows = [r for r in rows if r.id in taken]
        if not rows:
            return []
        call_ids = {r.id: str(uuid.uuid4()) for r in rows}
        s.execute(
            insert(AttemptRow),
            [
                {
                    "lead_id": r.id,
                    "campaign_id": campaign_id,
                    "phone": r.phone,
                    "call_id": call_ids[r.id],
                    "worker": worker,
                    "state": "dialing",
                    "started_at": now,
                }
                for r in rows
            ],
        )
        s.execute(
            insert(AUDIT),
            [
                _audit_values(
                    now,
                    worker,
                    "dialed",
                    "",
                    campaign_id=campaign_id,
                    lead_id=r.id,
                    phone=r.phone,
                    call_id=call_ids[r.id],
                )
                for r in rows
            ],
        )
        claims = []
        for r in rows:
            info = dataclasses.replace(_lead(r), status=LeadStatus.DIALING.value, attempts=r.attempts + 1)
            claims.append(Claim(call_ids[r.id], info))
        return claims

    def _skip(self, s: Session, skips: list[tuple[Any, Next]], now: datetime, actor: str) -> None:
        if not skips:
            return
        rows = [(row.id, nxt.status.value, nxt.at, nxt.reason) for row, nxt in skips]
        if s.get_bind().dialect.name == "postgresql":
            # one UPDATE ... FROM (VALUES ...) per batch: a statement per lead is slow there
            moves = values(
                column("lead", Integer),
                column("status", String),
                column("next_at", DateTime(timezone=True)),
                column("reason", String),
                name="moves",
            ).data(rows)
            s.execute(
                update(LEADS)
                .where(LEADS.c.id == moves.c.lead)
                .values(
                    status=moves.c.status,
                    next_at=cast(moves.c.next_at, DateTime(timezone=True)),  # NULLs render untyped
                    last_reason=moves.c.reason,
                    updated_at=now,
                )
            )
        else:  # SQLite: executemany of one prepared statement, in process, is fast
            s.execute(
                update(LEADS).where(LEADS.c.id == bindparam("lead")),
                [
                    {"lead": lead, "status": status, "next_at": at, "last_reason": reason, "updated_at": now}
                    for lead, status, at, reason in rows
                ],
            )
        s.execute(
            insert(AUDIT),
            [
                _audit_values(
                    now,
                    actor,
                    "skipped",
                    nxt.reason,
                    campaign_id=row.campaign_id,
                    lead_id=row.id,
                    phone=row.phone,
                    detail={"retry_at": nxt.at.isoformat() if nxt.at else None, "status": nxt.status.value},
                )
                for row, nxt in skips
            ],
        )

    def still_dialable(self, phone: str, campaign_id: str) -> tuple[LeadStatus, str] | None:
        """The last check before an Originate: None if the call may go; else where the lead goes.

        A number blocked while its lead waited for a channel goes to do-not-call; a lead of a
        campaign paused or stopped meanwhile goes back to pending, untouched.
        """
        with self._sessions() as s:
            if _blocked(s, [phone], campaign_id):
                return LeadStatus.DO_NOT_CALL, "do-not-call"
            state = s.scalar(select(CampaignRow.state).where(CampaignRow.id == campaign_id))
            if state != "running":
                return LeadStatus.PENDING, f"campaign {state}"
            return None

    def cancel(
        self,
        call_id: str,
        lead_id: int,
        reason: str,
        status: LeadStatus,
        actor: str,
        now: datetime | None = None,
    ) -> None:
        """A claimed lead that must not be dialed after all (its number was blocked meanwhile):
        its attempt goes, it does not count. Idempotent (a write replayed from the outbox)."""
        now = now or self._now()
        with self._sessions.begin() as s:
            attempt = s.scalar(select(AttemptRow).where(AttemptRow.call_id == call_id))
            if attempt is None:
                return
            s.delete(attempt)
            row = s.get(LeadRow, lead_id)
            if row is not None:  # never dialed: the attempt does not count
                row.status, row.last_reason, row.updated_at = status.value, reason, now
                row.attempts = max(0, row.attempts - 1)
            _audit(
                s,
                now,
                actor,
                "skipped",
                reason,
                campaign_id=attempt.campaign_id,
                lead_id=lead_id,
                phone=attempt.phone,
                call_id=call_id,
            )

    def finish(
        self,
        call_id: str,
        nxt: Next,
        *,
        disposition: str,
        outcome: str | None,
        grade: str | None,
        actor: str,
        state: str = "done",
        now: datetime | None = None,
    ) -> None:
        """Close an attempt and move its lead on (retry, done, do-not-call...)."""
        now = now or self._now()
        with self._sessions.begin() as s:
            attempt = s.scalar(select(AttemptRow).where(AttemptRow.call_id == call_id))
            if attempt is None:
                raise CampaignError(f"no attempt for call {call_id}")
            if attempt.ended_at is not None:
                return  # closed already: a write replayed from the outbox
            attempt.state, attempt.ended_at = state, now
            attempt.disposition, attempt.outcome = disposition, outcome
            lead = s.get(LeadRow, attempt.lead_id)
            if lead is not None:
                lead.status, lead.next_at, lead.last_reason = nxt.status.value, nxt.at, nxt.reason
                lead.last_disposition, lead.last_outcome, lead.updated_at = disposition, outcome, now
                lead.grade = grade or lead.grade
            _audit(
                s,
                now,
                actor,
                "result" if state == "done" else "reconciled",
                nxt.reason,
                campaign_id=attempt.campaign_id,
                lead_id=attempt.lead_id,
                phone=attempt.phone,
                call_id=call_id,
                detail={
                    "disposition": disposition,
                    "outcome": outcome,
                    "status": nxt.status.value,
                    "next_at": nxt.at.isoformat() if nxt.at else None,
                },
            )

    def in_flight(self, *, worker: str, silent_since: datetime) -> list[InFlight]:
        """Attempts still marked dialing: this worker's, and those of workers not seen since
        ``silent_since`` (they died and did not come back)."""
        with self._sessions() as s:
            seen = {name: _aware(at) for name, at in s.execute(select(WorkerRow.name, WorkerRow.seen_at))}
            rows = [
                r
                for r in s.scalars(select(AttemptRow).where(AttemptRow.state == "dialing"))
                if r.worker == worker or seen.get(r.worker, _aware(r.started_at)) < silent_since
            ]
            return [
                InFlight(r.call_id, r.lead_id, r.campaign_id, r.phone, r.worker, _aware(r.started_at))
                for r in rows
            ]

    def remaining(self, campaign_id: str, now: datetime | None = None) -> dict[str, int]:
        """Leads per status; with ``due`` = pending and due now."""
        now = now or self._now()
        with self._sessions() as s:
            counts = dict(
                s.execute(
                    select(LeadRow.status, func.count())
                    .where(LeadRow.campaign_id == campaign_id)
                    .group_by(LeadRow.status)
                ).all()
            )
            counts["due"] = (
                s.scalar(
                    select(func.count()).where(
                        LeadRow.campaign_id == campaign_id,
                        LeadRow.status == LeadStatus.PENDING.value,
                        LeadRow.next_at <= now,
                    )
                )
                or 0
            )
            return counts

    def next_due(self, campaign_id: str) -> datetime | None:
        with self._sessions() as s:
            value = s.scalar(
                select(func.min(LeadRow.next_at)).where(
                    LeadRow.campaign_id == campaign_id, LeadRow.status == LeadStatus.PENDING.value
                )
            )
            return _aware(value) if value is not None else None

    def attempts(self, campaign_id: str) -> list[dict[str, Any]]:
        """Every attempt of the campaign, oldest first, with its call's talk time and grade."""
        with self._sessions() as s:
            rows = s.execute(
                select(AttemptRow, Call.talk_seconds, Call.grade)
                .outerjoin(Call, Call.id == AttemptRow.call_id)
                .where(AttemptRow.campaign_id == campaign_id)
                .order_by(AttemptRow.id)
            )
            return [
                {
                    "lead_id": r.lead_id,
                    "phone": r.phone,
                    "call_id": r.call_id,
                    "worker": r.worker,
                    "state": r.state,
                    "started_at": _aware(r.started_at),
                    "ended_at": _aware(r.ended_at),
                    "disposition": r.disposition,
                    "outcome": r.outcome,
                    "talk_seconds": talk,
                    "grade": grade,
                }
                for r, talk, grade in rows
            ]

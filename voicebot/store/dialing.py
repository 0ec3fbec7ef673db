"""Claims and attempts: the dialer's side of the campaign store.

``claim`` is the heart of the dialer: it picks due leads with row locks that skip
rows another worker holds (PostgreSQL; on SQLite the single writer does the same),
applies the dial rules to each inside the same transaction, and writes the attempt
*before* anything is dialed. A lead moves from ``pending`` to ``dialing`` only by a
conditional update, so two workers can never both dial it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
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
    insert,
    select,
    update,
    values,
)
from sqlalchemy.orm import Session, sessionmaker

from voicebot.campaign.retry import LeadStatus, Next, after_skip
from voicebot.campaign.rules import Lead, Policy
from voicebot.errors import CampaignError
from voicebot.store.audit import AUDIT, _audit, _audit_values
from voicebot.store.dnc import _blocked
from voicebot.store.history import call_history
from voicebot.store.models import AttemptRow, CampaignRow, LeadRow, WorkerRow
from voicebot.store.models import aware as _aware

LEADS: Table = LeadRow.__table__  # type: ignore[assignment]
#: Due leads a claim locks and looks at beyond its limit (the rules may turn some away; those
#: are rescheduled in bulk). Small enough that workers sharing a campaign rarely wait on each other.
BATCH_SLACK = 100
#: Attempts older than this never matter to the caps but the lifetime one (counted apart).
RECENT = timedelta(days=8)


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


class Dialing:
    """Claims and attempts (a part of :class:`voicebot.store.campaigns.CampaignRepo`)."""

    _sessions: sessionmaker[Session]
    _now: Callable[[], datetime]

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
            wrapped = (  # an agent filed this call's wrap-up before it ended: the agent's word stands
                lead is not None
                and (lead.last_outcome or "").startswith("agent:")
                and _aware(lead.updated_at) >= _aware(attempt.started_at)
            )
            if lead is not None and not wrapped:
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

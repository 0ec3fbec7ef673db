"""Campaigns and leads, and the repository that joins every campaign store part.

Every method is one transaction. The claims that feed the dialer are in
``dialing.py``; the do-not-call lists, the audit, the workers' heartbeats and the
rule check of ad-hoc calls in their own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.orm import Session, sessionmaker

from voicebot.campaign.leads import ImportedLead
from voicebot.campaign.retry import LeadStatus
from voicebot.errors import CampaignError
from voicebot.store.adhoc import AdhocCalls
from voicebot.store.audit import AuditEntry, AuditTrail, _audit
from voicebot.store.complaints import ComplaintBook
from voicebot.store.dialing import Claim, Dialing, InFlight, LeadInfo, _lead
from voicebot.store.dnc import GLOBAL, DncEntry, DoNotCallLists, _chunks
from voicebot.store.inbound import CallersBack
from voicebot.store.models import AttemptRow, Call, CampaignRow, LeadRow
from voicebot.store.models import aware as _aware
from voicebot.store.workers import WorkerBeats

__all__ = ["GLOBAL", "AuditEntry", "CampaignRepo", "Claim", "DncEntry", "InFlight", "LeadInfo"]

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


class CampaignRepo(Dialing, DoNotCallLists, AuditTrail, WorkerBeats, AdhocCalls, CallersBack, ComplaintBook):
    """Campaigns and leads; the claims and attempts, the do-not-call lists, the audit, the workers'
    heartbeats, the rule check of calls outside campaigns, the leads who call back and the
    complaints are its parts."""

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

"""Callers who phone back the number the robot showed: which lead they are, and what their call
changes (a part of :class:`voicebot.store.campaigns.CampaignRepo`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from voicebot.campaign.retry import LeadStatus, Next
from voicebot.store.audit import _audit
from voicebot.store.dialing import LeadInfo, _lead
from voicebot.store.models import AttemptRow, AuditRow, CampaignRow, LeadRow

#: Lead statuses a callback the bot took on an inbound call does not change: the number is
#: blocked, an attempt is in flight, or an agent holds the lead.
_KEPT = frozenset({LeadStatus.DO_NOT_CALL, LeadStatus.DIALING, LeadStatus.AGENT})


class CallersBack:
    _sessions: sessionmaker[Session]
    _now: Callable[[], datetime]

    def calling_back(self, phone: str) -> tuple[LeadInfo, dict[str, Any]] | None:
        """The lead a caller is, by their number (E.164), with its campaign's definition: of the
        leads with that number, the one the robot called last (else the newest). None: no lead."""
        with self._sessions() as s:
            last = s.scalar(
                select(AttemptRow.lead_id)
                .where(AttemptRow.phone == phone)
                .order_by(AttemptRow.started_at.desc(), AttemptRow.id.desc())
                .limit(1)
            )
            row = s.get(LeadRow, last) if last is not None else None
            if row is None:
                row = s.scalar(
                    select(LeadRow).where(LeadRow.phone == phone).order_by(LeadRow.id.desc()).limit(1)
                )
            if row is None:
                return None
            campaign = s.get(CampaignRow, row.campaign_id)
            return _lead(row), dict(campaign.definition) if campaign is not None else {}

    def called_back(
        self,
        lead_id: int,
        call_id: str,
        *,
        nxt: Next | None,
        actor: str,
        detail: dict[str, Any],
        now: datetime | None = None,
    ) -> None:
        """A lead's inbound call, audited; ``nxt`` (a callback the bot took) moves the lead on
        unless it is blocked, being dialed or held by an agent. Replaying it changes nothing more."""
        now = now or self._now()
        with self._sessions.begin() as s:
            lead = s.get(LeadRow, lead_id)
            done = select(AuditRow.id).where(AuditRow.call_id == call_id, AuditRow.action == "inbound")
            if lead is None or s.scalar(done.limit(1)) is not None:
                return  # no such lead, or a write replayed from the outbox
            # a callback the callee asked for: a finished lead comes back for it too
            moved = nxt is not None and LeadStatus(lead.status) not in _KEPT
            if moved and nxt is not None:
                lead.status, lead.next_at, lead.last_reason = nxt.status.value, nxt.at, nxt.reason
                lead.updated_at = now
            _audit(
                s,
                now,
                actor,
                "inbound",
                nxt.reason if moved and nxt is not None else "called back",
                campaign_id=lead.campaign_id,
                lead_id=lead.id,
                phone=lead.phone,
                call_id=call_id,
                detail={
                    **detail,
                    "status": lead.status,
                    "next_at": lead.next_at.isoformat() if lead.next_at else None,
                },
            )

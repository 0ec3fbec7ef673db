"""The audit trail: every dial decision and every change to who may be called."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from voicebot.store.models import AuditRow
from voicebot.store.models import aware as _aware


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    reason: str
    campaign_id: str | None
    lead_id: int | None
    phone: str | None
    call_id: str | None
    detail: dict[str, Any]


class AuditTrail:
    """Reading the audit (a part of :class:`voicebot.store.campaigns.CampaignRepo`)."""

    _sessions: sessionmaker[Session]
    _now: Callable[[], datetime]

    def note(self, actor: str, action: str, reason: str = "", **kw: Any) -> None:
        """Write one audit entry of its own (e.g. ``trunk_paused``)."""
        with self._sessions.begin() as s:
            _audit(s, self._now(), actor, action, reason, **kw)

    def count(self, *, actor: str, action: str, since: datetime) -> int:
        """How many entries ``actor`` wrote of ``action`` since a time (an agent's calls today)."""
        with self._sessions() as s:
            q = select(func.count()).where(
                AuditRow.actor == actor, AuditRow.action == action, AuditRow.at >= since
            )
            return int(s.scalar(q) or 0)

    def audit(
        self,
        *,
        campaign_id: str | None = None,
        phone: str | None = None,
        lead_id: int | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        with self._sessions() as s:
            q = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
            for column, value in (
                (AuditRow.campaign_id, campaign_id),
                (AuditRow.phone, phone),
                (AuditRow.lead_id, lead_id),
                (AuditRow.action, action),
            ):
                if value is not None:
                    q = q.where(column == value)
            if since is not None:
                q = q.where(AuditRow.at >= since)
            rows = list(s.scalars(q))
            return [
                AuditEntry(
                    r.id,
                    _aware(r.at),
                    r.actor,
                    r.action,
                    r.reason,
                    r.campaign_id,
                    r.lead_id,
                    r.phone,
                    r.call_id,
                    dict(r.detail),
                )
                for r in reversed(rows)
            ]


AUDIT: Table = AuditRow.__table__  # type: ignore[assignment]


def _audit_values(
    at: datetime,
    actor: str,
    action: str,
    reason: str = "",
    *,
    campaign_id: str | None = None,
    lead_id: int | None = None,
    phone: str | None = None,
    call_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "reason": reason[:128],
        "campaign_id": campaign_id,
        "lead_id": lead_id,
        "phone": phone,
        "call_id": call_id,
        "detail": detail or {},
    }


def _audit(s: Session, at: datetime, actor: str, action: str, reason: str = "", **kw: Any) -> None:
    s.add(AuditRow(**_audit_values(at, actor, action, reason, **kw)))

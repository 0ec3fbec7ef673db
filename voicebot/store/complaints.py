"""Complaints kept to closure: received with a due time by severity, moved through their states,
the number put on the do-not-call list unless the handler says why not. Every step audited."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from voicebot.errors import ConsoleError
from voicebot.qa import complaints as rules
from voicebot.store.audit import _audit
from voicebot.store.models import ComplaintRow
from voicebot.store.models import aware as _aware


@dataclass(frozen=True, slots=True)
class Complaint:
    id: int
    received_at: datetime
    channel: str
    category: str
    severity: str
    urgent: bool
    phone: str | None
    call_id: str | None
    campaign_id: str | None
    agent: str | None
    description: str
    state: str
    escalated: bool
    due_at: datetime
    handler: str | None
    answer: str
    closed_at: datetime | None
    satisfaction: int | None
    blocked: bool
    keep_calling_reason: str

    def overdue(self, now: datetime) -> bool:
        return rules.overdue(self.state, self.due_at, now)


def _complaint(r: ComplaintRow) -> Complaint:
    return Complaint(
        r.id, _aware(r.received_at), r.channel, r.category, r.severity, r.urgent, r.phone, r.call_id,
        r.campaign_id, r.agent, r.description, r.state, r.escalated, _aware(r.due_at), r.handler, r.answer,
        _aware(r.closed_at) if r.closed_at else None, r.satisfaction, r.blocked, r.keep_calling_reason,
    )  # fmt: skip


class ComplaintBook:
    """A part of :class:`voicebot.store.campaigns.CampaignRepo` (the do-not-call list is its own)."""

    _sessions: sessionmaker[Session]
    _now: Callable[[], datetime]

    if TYPE_CHECKING:  # the repository's do-not-call list

        def dnc_add(
            self, phones: list[str], *, reason: str, actor: str, call_id: str | None = None
        ) -> int: ...

    def complaint_add(
        self,
        *,
        channel: str,
        category: str,
        severity: str,
        description: str,
        actor: str,
        phone: str | None = None,
        call_id: str | None = None,
        campaign_id: str | None = None,
        agent: str | None = None,
        urgent: bool = False,
        keep_calling: str = "",
        due_hours: Mapping[str, float] = rules.DUE_HOURS,
        categories: Sequence[str] = rules.CATEGORIES,
    ) -> Complaint:
        """Record a complaint; its number goes on the global do-not-call list unless
        ``keep_calling`` says why not (both audited)."""
        for value, allowed, what in (
            (channel, rules.CHANNELS, "channel"),
            (category, tuple(categories), "category"),
            (severity, rules.SEVERITIES, "severity"),
        ):
            if value not in allowed:
                raise ConsoleError(f"{value!r} is no {what} (one of {', '.join(allowed)})", hint=what)
        if phone is None and call_id is None and agent is None:
            raise ConsoleError("a complaint is against a call, a number or an agent: give one", hint="phone")
        now = self._now()
        with self._sessions.begin() as s:
            row = ComplaintRow(
                received_at=now, channel=channel, category=category, severity=severity, urgent=urgent,
                phone=phone, call_id=call_id, campaign_id=campaign_id, agent=agent,
                description=description[:8000], state="received", escalated=rules.escalated(severity),
                due_at=rules.due_at(now, severity, due_hours), answer="",
                blocked=phone is not None and not keep_calling.strip(),
                keep_calling_reason=keep_calling[:2000],
            )  # fmt: skip
            s.add(row)
            s.flush()
            detail = {"complaint": row.id, "severity": severity, "escalated": row.escalated}
            _audit(s, now, actor, "complaint_received", category, phone=phone, call_id=call_id, detail=detail)
            if phone is not None and not row.blocked:
                _audit(
                    s, now, actor, "complaint_keep_calling", keep_calling[:128], phone=phone, detail=detail
                )
            complaint = _complaint(row)
        if complaint.blocked and phone is not None:
            self.dnc_add(
                [phone], reason=f"complaint {complaint.id}: {category}", actor=actor, call_id=call_id
            )
        return complaint

    def complaint_move(self, complaint_id: int, to: str, *, actor: str, answer: str = "") -> Complaint:
        now = self._now()
        with self._sessions.begin() as s:
            row = s.get(ComplaintRow, complaint_id, with_for_update=True)
            if row is None:
                raise ConsoleError(f"no complaint {complaint_id}")
            why = rules.check_move(row.state, to)
            if why is not None:
                raise ConsoleError(why, hint="state")
            if to in ("answered", "closed") and not (answer.strip() or row.answer):
                raise ConsoleError("write the answer given to the complainant", hint="answer")
            row.state, row.handler = to, actor
            if answer.strip():
                row.answer = answer[:8000]
            if to == "closed":
                row.closed_at = now
            late = now > _aware(row.due_at)
            detail = {"complaint": row.id, "state": to, "late": late}
            _audit(
                s,
                now,
                actor,
                f"complaint_{to}",
                answer[:128],
                phone=row.phone,
                call_id=row.call_id,
                detail=detail,
            )
            return _complaint(row)

    def complaint_satisfaction(self, complaint_id: int, score: int, *, actor: str) -> Complaint:
        """The complainant's satisfaction (1-5) asked after closing."""
        if not 1 <= score <= 5:
            raise ConsoleError("satisfaction is 1 (very dissatisfied) to 5 (very satisfied)", hint="score")
        now = self._now()
        with self._sessions.begin() as s:
            row = s.get(ComplaintRow, complaint_id)
            if row is None or row.state != "closed":
                raise ConsoleError("satisfaction is asked after a complaint is closed")
            row.satisfaction = score
            _audit(
                s,
                now,
                actor,
                "complaint_satisfaction",
                str(score),
                phone=row.phone,
                detail={"complaint": row.id},
            )
            return _complaint(row)

    def complaints(self, *, open_only: bool = False, limit: int = 500) -> list[Complaint]:
        """Newest first; ``open_only``: not closed, the soonest due first."""
        with self._sessions() as s:
            query = select(ComplaintRow)
            if open_only:
                query = query.where(ComplaintRow.state != "closed").order_by(ComplaintRow.due_at)
            else:
                query = query.order_by(ComplaintRow.received_at.desc(), ComplaintRow.id.desc())
            return [_complaint(r) for r in s.scalars(query.limit(limit))]

    def complaints_overdue(self, now: datetime | None = None) -> list[Complaint]:
        now = (now or self._now()).astimezone(UTC)
        with self._sessions() as s:
            rows = s.scalars(
                select(ComplaintRow)
                .where(ComplaintRow.state != "closed", ComplaintRow.due_at < now)
                .order_by(ComplaintRow.due_at)
            )
            return [_complaint(r) for r in rows]

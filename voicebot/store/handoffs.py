"""Hand-offs to agents: each offer of a call to an agent by a queue and what came of it, the
agent's wrap-up, the transfers a campaign's pacing counts, and an agent's follow-ups (a part
of :class:`voicebot.store.console.ConsoleRepo`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from voicebot.errors import ConsoleError
from voicebot.reports.tables import taken
from voicebot.store.audit import _audit
from voicebot.store.models import Call, CallEventRow, HandoffRow, LeadRow, UserRow
from voicebot.store.models import aware as _aware


@dataclass(frozen=True, slots=True)
class TransferCounts:
    """A campaign's robot conversations since a time, and what became of its transfers."""

    conversations: int  # answered robot calls
    transfers: int  # handed to the agents' queue (ended: still waiting ones are not counted)
    abandoned: int  # no agent took them within the limit
    taken: int  # an agent took them within the limit

    @property
    def abandoned_rate(self) -> float | None:
        return self.abandoned / self.transfers if self.transfers else None


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A lead an agent follows up: a callback (theirs or anyone's), or an A/B lead they took."""

    lead_id: int
    campaign_id: str
    name: str
    phone: str
    timezone: str
    grade: str | None
    status: str
    callback_at: datetime | None
    mine: bool  # the callback is this agent's own (else any agent's)
    call_id: str


@dataclass(frozen=True, slots=True)
class Handoff:
    id: int
    call_id: str
    user_id: int | None
    queue: str
    interface: str
    offered_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    result: str
    wait_seconds: float | None
    ring_seconds: float | None
    talk_seconds: float | None
    disposition: str | None
    grade: str | None
    fields: dict[str, Any]
    notes: str
    callback_at: datetime | None
    callback_user_id: int | None
    wrapped_at: datetime | None


def _handoff(row: HandoffRow) -> Handoff:
    values = {name: _aware(getattr(row, name)) for name in Handoff.__dataclass_fields__}
    values["fields"] = dict(row.fields or {})
    return Handoff(**values)


class HandoffRecords:
    _sessions: sessionmaker[Session]
    _now: Callable[[], datetime]

    # -- hand-offs --------------------------------------------------------------------
    def offered(self, call_id: str, *, interface: str, queue: str, wait_seconds: float | None) -> Handoff:
        """A queue rings an agent with a call (AMI AgentCalled)."""
        now = self._now()
        with self._sessions.begin() as s:
            user = s.scalar(select(UserRow).where(UserRow.interface == interface))
            row = HandoffRow(
                call_id=call_id,
                user_id=user.id if user is not None else None,
                queue=queue,
                interface=interface,
                offered_at=now,
                result="ringing",
                wait_seconds=wait_seconds,
                fields={},
                notes="",
            )
            s.add(row)
            s.flush()
            return _handoff(row)

    def _ringing(self, s: Session, call_id: str, interface: str) -> HandoffRow | None:
        """The hand-off of this call to this interface; with no call id, the one the interface
        is talking on (answered, not ended)."""
        query = select(HandoffRow).where(HandoffRow.interface == interface)
        if call_id:
            query = query.where(HandoffRow.call_id == call_id)
        else:
            query = query.where(HandoffRow.result == "answered", HandoffRow.ended_at.is_(None))
        return s.scalar(query.order_by(HandoffRow.id.desc()).limit(1))

    def answered(
        self, call_id: str, *, interface: str, wait_seconds: float | None, ring_seconds: float | None
    ) -> Handoff | None:
        now = self._now()
        with self._sessions.begin() as s:
            row = self._ringing(s, call_id, interface)
            if row is None:
                return None
            if row.result == "declined":  # bridged to a leg the whisper had hung up: no conversation
                return None
            row.result, row.answered_at = "answered", now
            row.wait_seconds = wait_seconds if wait_seconds is not None else row.wait_seconds
            row.ring_seconds = ring_seconds
            return _handoff(row)

    def not_answered(self, call_id: str, *, interface: str, ring_seconds: float | None) -> Handoff | None:
        now = self._now()
        with self._sessions.begin() as s:
            row = self._ringing(s, call_id, interface)
            if row is None or row.result != "ringing":
                return None
            row.result, row.ended_at, row.ring_seconds = "no_answer", now, ring_seconds
            return _handoff(row)

    def declined(self, call_id: str, *, interface: str) -> Handoff | None:
        """The agent declined the call in the whisper (pressed 2)."""
        now = self._now()
        with self._sessions.begin() as s:
            row = self._ringing(s, call_id, interface)
            if row is None:
                return None
            row.result, row.ended_at = "declined", now
            return _handoff(row)

    def completed(self, call_id: str, *, interface: str, talk_seconds: float | None) -> Handoff | None:
        now = self._now()
        with self._sessions.begin() as s:
            row = self._ringing(s, call_id, interface)
            if row is None:
                return None
            if row.result == "declined":  # the queue bridged a leg the whisper had hung up
                return _handoff(row)
            row.result, row.ended_at, row.talk_seconds = "completed", now, talk_seconds
            return _handoff(row)

    def handoffs(self, call_id: str) -> list[Handoff]:
        with self._sessions() as s:
            rows = s.scalars(select(HandoffRow).where(HandoffRow.call_id == call_id).order_by(HandoffRow.id))
            return [_handoff(r) for r in rows]

    def handed_to(self, call_id: str, user_id: int) -> bool:
        """Whether the call was ever offered to this agent (what lets an agent open it)."""
        with self._sessions() as s:
            found = s.scalar(
                select(HandoffRow.id).where(HandoffRow.call_id == call_id, HandoffRow.user_id == user_id)
            )
            return found is not None

    def wrap_up(
        self,
        handoff_id: int,
        *,
        user_id: int,
        username: str,
        disposition: str,
        grade: str | None,
        fields: dict[str, str],
        notes: str,
        callback_at: datetime | None,
        callback_user_id: int | None,
        lead_id: int | None,
        lead_status: str,
        lead_next_at: datetime | None,
        lead_reason: str,
    ) -> Handoff:
        """The agent's wrap-up, and the lead moved on with it, in one transaction (audited)."""
        now = self._now()
        with self._sessions.begin() as s:
            row = s.get(HandoffRow, handoff_id)
            if row is None or row.user_id != user_id:
                raise ConsoleError("this hand-off is not yours to wrap up")
            row.disposition, row.grade, row.fields, row.notes = disposition, grade, fields, notes
            row.callback_at, row.callback_user_id, row.wrapped_at = callback_at, callback_user_id, now
            lead = s.get(LeadRow, lead_id) if lead_id is not None else None
            if lead is not None:
                lead.status, lead.next_at, lead.last_reason = lead_status, lead_next_at, lead_reason
                lead.last_outcome, lead.updated_at = f"agent:{disposition}", now
                lead.grade = grade or lead.grade
            _audit(
                s,
                now,
                username,
                "wrapup",
                disposition,
                campaign_id=lead.campaign_id if lead is not None else None,
                lead_id=lead_id,
                phone=lead.phone if lead is not None else None,
                call_id=row.call_id,
                detail={
                    "grade": grade,
                    "lead_status": lead_status,
                    "callback_at": callback_at.isoformat() if callback_at else None,
                },
            )
            return _handoff(row)

    def transfer_counts(self, campaign_id: str, since: datetime, *, limit: float) -> TransferCounts:
        """Transfers of the campaign's calls created since ``since``. A transfer is taken when an
        agent picked up within ``limit`` seconds of the bridging line and took the call (the
        ``whisper`` event the worker journals as the agent answers: ``waited``, ``decision``), else
        abandoned; a transferred call still up that no agent has answered is not counted yet."""
        with self._sessions() as s:
            answered = (
                select(Call.id)
                .where(
                    Call.campaign_id == campaign_id, Call.created_at >= since, Call.answered_at.is_not(None)
                )
                .scalar_subquery()
            )
            conversations = s.scalar(select(func.count()).where(Call.id.in_(answered))) or 0
            rows = s.execute(
                select(CallEventRow.call_id, CallEventRow.kind, CallEventRow.data, Call.completed_at)
                .join(Call, Call.id == CallEventRow.call_id)
                .where(CallEventRow.call_id.in_(answered), CallEventRow.kind.in_(["transfer", "whisper"]))
            ).all()
        transferred: dict[str, bool] = {}  # call id -> ended
        answers: dict[str, list[dict[str, Any]]] = {}
        for call_id, kind, data, completed_at in rows:
            if kind == "transfer":
                transferred[call_id] = completed_at is not None
            else:
                answers.setdefault(call_id, []).append(dict(data or {}))
        took = sum(1 for call_id in transferred if taken(answers.get(call_id, []), limit))
        decided = sum(1 for call_id, ended in transferred.items() if ended or call_id in answers)
        return TransferCounts(int(conversations), decided, decided - took, took)

    def follow_ups(self, user_id: int, limit: int = 200) -> list[FollowUp]:
        """This agent's callbacks and any agent's, and the A and B leads handed to them that
        are still open, soonest callback first."""
        with self._sessions() as s:
            rows = s.execute(
                select(HandoffRow, LeadRow)
                .join(Call, Call.id == HandoffRow.call_id)
                .join(LeadRow, cast(LeadRow.id, String) == Call.lead_id)  # integer to text: always valid
                .where(
                    LeadRow.status.not_in(["done", "dnc", "exhausted", "expired"]),
                    or_(
                        and_(
                            HandoffRow.callback_at.is_not(None),
                            or_(
                                HandoffRow.callback_user_id == user_id, HandoffRow.callback_user_id.is_(None)
                            ),
                        ),
                        and_(HandoffRow.user_id == user_id, LeadRow.grade.in_(["A", "B"])),
                    ),
                )
                .order_by(HandoffRow.id.desc())
                .limit(limit * 2)
            ).all()
        seen: dict[int, FollowUp] = {}
        for h, lead in rows:
            if lead.id in seen:  # the latest hand-off of each lead
                continue
            seen[lead.id] = FollowUp(
                lead.id,
                lead.campaign_id,
                lead.name,
                lead.phone,
                lead.timezone,
                lead.grade,
                lead.status,
                _aware(h.callback_at),
                h.callback_user_id == user_id,
                h.call_id,
            )
        far = datetime.max.replace(tzinfo=UTC)
        return sorted(seen.values(), key=lambda f: (f.callback_at or far, f.lead_id))[:limit]

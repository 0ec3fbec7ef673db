"""The inspectors' queue: calls sampled each week, scored by a person, disputed, settled.
Every change is audited under the person who made it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from voicebot.errors import ConsoleError
from voicebot.qa.sampling import Candidate
from voicebot.store.audit import _audit
from voicebot.store.models import Call, FollowUpRow, HandoffRow, InspectionRow, QaResultRow, UserRow
from voicebot.store.models import aware as _aware

#: state -> the states it may move to
MOVES = {
    "queued": {"scored"},
    "scored": {"scored", "disputed", "settled"},
    "disputed": {"settled"},
    "settled": set(),
}


@dataclass(frozen=True, slots=True)
class Inspection:
    id: int
    call_id: str
    campaign_id: str | None
    week: str
    reason: str
    state: str
    inspector: str | None
    score: float | None
    passed: bool | None
    items: dict[str, Any]
    comment: str
    dispute: str
    disputed_by: str | None
    settled_by: str | None


#: What a failed inspection can ask for: a script fix, the agent's coaching, a callback.
FOLLOW_UP_KINDS = ("script", "agent", "callback")


@dataclass(frozen=True, slots=True)
class FollowUp:
    id: int
    inspection_id: int
    call_id: str
    campaign_id: str | None
    lead_id: int | None
    kind: str
    assignee: str | None
    note: str
    state: str
    opened_by: str
    opened_at: datetime
    done_by: str | None
    done_at: datetime | None
    answer: str


def _follow_up(r: FollowUpRow) -> FollowUp:
    return FollowUp(
        r.id, r.inspection_id, r.call_id, r.campaign_id, r.lead_id, r.kind, r.assignee, r.note, r.state,
        r.opened_by, _aware(r.opened_at), r.done_by, _aware(r.done_at) if r.done_at else None, r.answer,
    )  # fmt: skip


def _inspection(r: InspectionRow) -> Inspection:
    return Inspection(
        r.id, r.call_id, r.campaign_id, r.week, r.reason, r.state, r.inspector, r.score, r.passed,
        dict(r.items), r.comment, r.dispute, r.disputed_by, r.settled_by,
    )  # fmt: skip


class InspectionQueue:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    def candidates(
        self, campaign_id: str, start: datetime, end: datetime
    ) -> tuple[list[Candidate], list[str]]:
        """The campaign's answered calls in [start, end) the bot talked on, as the sampler sees
        them, and those already queued."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        with self._sessions() as s:
            rows = s.execute(
                select(Call.id, Call.grade, Call.outcome).where(
                    Call.campaign_id == campaign_id,
                    Call.created_at >= start,
                    Call.created_at < end,
                    Call.disposition == "answered",
                    Call.transcript.is_not(None),
                )
            ).all()
            ids = [r.id for r in rows]
            failed = set(
                s.scalars(
                    select(QaResultRow.call_id).where(
                        QaResultRow.call_id.in_(ids), QaResultRow.passed.is_(False)
                    )
                )
            )
            sales = set(
                s.scalars(
                    select(HandoffRow.call_id).where(
                        HandoffRow.call_id.in_(ids), HandoffRow.disposition == "sale"
                    )
                )
            )
            queued = list(s.scalars(select(InspectionRow.call_id).where(InspectionRow.call_id.in_(ids))))
        return [Candidate(r.id, r.grade, r.outcome, r.id in failed, r.id in sales) for r in rows], queued

    def enqueue(self, campaign_id: str, week: str, chosen: Sequence[tuple[str, str]], *, actor: str) -> int:
        """Queue the chosen calls (call id, reason); a call already queued is skipped."""
        now, added = self._now(), 0
        with self._sessions.begin() as s:
            present = set(
                s.scalars(
                    select(InspectionRow.call_id).where(InspectionRow.call_id.in_([c for c, _ in chosen]))
                )
            )
            for call_id, reason in chosen:
                if call_id in present:
                    continue
                s.add(
                    InspectionRow(
                        call_id=call_id, campaign_id=campaign_id, week=week, reason=reason, queued_at=now
                    )
                )
                added += 1
            _audit(s, now, actor, "inspection_sampled", f"{added} calls for {week}", campaign_id=campaign_id)
        return added

    def queue(
        self, *, campaign_id: str | None = None, state: str | None = None, limit: int = 500
    ) -> list[Inspection]:
        with self._sessions() as s:
            query = select(InspectionRow)
            if campaign_id is not None:
                query = query.where(InspectionRow.campaign_id == campaign_id)
            if state is not None:
                query = query.where(InspectionRow.state == state)
            rows = s.scalars(query.order_by(InspectionRow.week.desc(), InspectionRow.id).limit(limit))
            return [_inspection(r) for r in rows]

    def get(self, inspection_id: int) -> Inspection | None:
        with self._sessions() as s:
            row = s.get(InspectionRow, inspection_id)
            return _inspection(row) if row else None

    def score(
        self,
        inspection_id: int,
        *,
        inspector: str,
        score: float,
        passed: bool,
        items: dict[str, Any],
        comment: str,
    ) -> Inspection:
        """An inspector's score of the call (again, while it is not disputed or settled)."""
        verdict = f"{score:g} {'pass' if passed else 'fail'}"
        fields = {"inspector": inspector, "score": score, "passed": passed, "items": items}
        fields.update(comment=comment[:4000], scored_at=self._now())
        return self._move(inspection_id, "scored", inspector, "inspection_scored", verdict, **fields)

    def dispute(self, inspection_id: int, *, by: str, reason: str) -> Inspection:
        """The script writer or the agent disputes a scored call."""
        if not reason.strip():
            raise ConsoleError("say why the score is wrong", hint="dispute")
        return self._move(
            inspection_id,
            "disputed",
            by,
            "inspection_disputed",
            reason[:128],
            disputed_by=by,
            dispute=reason[:4000],
        )

    def settle(self, inspection_id: int, *, by: str, passed: bool, comment: str) -> Inspection:
        """Signed off: the result stands (or is changed) and the inspection is closed."""
        row = self.get(inspection_id)
        if row is not None and row.inspector == by and row.state == "disputed":
            raise ConsoleError("a dispute is settled by someone other than the inspector who scored it")
        notes = "\n".join(x for x in (row.comment if row else "", comment) if x)[:4000]
        fields = {"settled_by": by, "settled_at": self._now(), "passed": passed, "comment": notes}
        return self._move(
            inspection_id, "settled", by, "inspection_settled", "pass" if passed else "fail", **fields
        )

    # -- follow-ups -------------------------------------------------------------------------
    def open_follow_up(self, inspection_id: int, *, kind: str, note: str, by: str) -> FollowUp:
        """A failed call's follow-up: for the script writers (``script``), the agent who took the
        call (``agent``), or a callback to the callee (``callback``: the call's agent, else any)."""
        if kind not in FOLLOW_UP_KINDS:
            raise ConsoleError(f"a follow-up is one of {', '.join(FOLLOW_UP_KINDS)}", hint="kind")
        if not note.strip():
            raise ConsoleError("say what is to be done", hint="note")
        now = self._now()
        with self._sessions.begin() as s:
            row = s.get(InspectionRow, inspection_id)
            if row is None:
                raise ConsoleError(f"no inspection {inspection_id}")
            if row.passed is not False:
                raise ConsoleError("only a call scored as failed opens a follow-up")
            call = s.get(Call, row.call_id)
            agent = s.scalar(
                select(UserRow.username)
                .join(HandoffRow, HandoffRow.user_id == UserRow.id)
                .where(HandoffRow.call_id == row.call_id, HandoffRow.answered_at.is_not(None))
                .order_by(HandoffRow.id.desc())
                .limit(1)
            )
            lead = call.lead_id if call is not None else None
            lead_id = int(lead) if lead and lead.isdigit() else None
            if kind == "agent" and agent is None:
                raise ConsoleError("no agent took this call: open a follow-up for the script", hint="kind")
            if kind == "callback" and lead_id is None:
                raise ConsoleError("the call has no lead to call back", hint="kind")
            follow = FollowUpRow(
                inspection_id=row.id, call_id=row.call_id, campaign_id=row.campaign_id, lead_id=lead_id,
                kind=kind, assignee=None if kind == "script" else agent, note=note[:4000], state="open",
                opened_by=by, opened_at=now, answer="",
            )  # fmt: skip
            s.add(follow)
            s.flush()
            detail = {"inspection": row.id, "follow_up": follow.id, "kind": kind, "assignee": follow.assignee}
            _audit(
                s, now, by, "follow_up_opened", kind, campaign_id=row.campaign_id, call_id=row.call_id,
                lead_id=lead_id, detail=detail,
            )  # fmt: skip
            return _follow_up(follow)

    def follow_ups(
        self,
        *,
        state: str | None = "open",
        inspection_id: int | None = None,
        assignee: str | None = None,
        limit: int = 200,
    ) -> list[FollowUp]:
        """Follow-ups, oldest first; with ``assignee``, that agent's and the callbacks anyone may
        make."""
        with self._sessions() as s:
            query = select(FollowUpRow)
            if state is not None:
                query = query.where(FollowUpRow.state == state)
            if inspection_id is not None:
                query = query.where(FollowUpRow.inspection_id == inspection_id)
            if assignee is not None:
                query = query.where(
                    (FollowUpRow.assignee == assignee)
                    | ((FollowUpRow.kind == "callback") & FollowUpRow.assignee.is_(None))
                )
            rows = s.scalars(query.order_by(FollowUpRow.id).limit(limit))
            return [_follow_up(r) for r in rows]

    def finish_follow_up(self, follow_up_id: int, *, by: str, answer: str, agent: bool) -> FollowUp:
        """Done, with what was done. ``agent``: the one finishing is an agent, who may finish only
        their own (or a callback anyone may make)."""
        if not answer.strip():
            raise ConsoleError("say what was done", hint="answer")
        now = self._now()
        with self._sessions.begin() as s:
            row = s.get(FollowUpRow, follow_up_id, with_for_update=True)
            if row is None:
                raise ConsoleError(f"no follow-up {follow_up_id}")
            if agent and not (row.assignee == by or (row.kind == "callback" and row.assignee is None)):
                raise ConsoleError("this follow-up is someone else's")
            if row.state != "open":
                raise ConsoleError("this follow-up is done already")
            row.state, row.done_by, row.done_at, row.answer = "done", by, now, answer[:4000]
            detail = {"inspection": row.inspection_id, "follow_up": row.id, "kind": row.kind}
            _audit(
                s, now, by, "follow_up_done", answer[:128], campaign_id=row.campaign_id, call_id=row.call_id,
                lead_id=row.lead_id, detail=detail,
            )  # fmt: skip
            return _follow_up(row)

    def _move(
        self, inspection_id: int, state: str, actor: str, action: str, reason: str, **fields: Any
    ) -> Inspection:
        now = self._now()
        with self._sessions.begin() as s:
            row = s.get(InspectionRow, inspection_id, with_for_update=True)
            if row is None:
                raise ConsoleError(f"no inspection {inspection_id}")
            if state not in MOVES[row.state]:
                raise ConsoleError(f"an inspection that is {row.state} cannot be {state}")
            row.state = state
            for name, value in fields.items():
                setattr(row, name, value)
            detail = {"inspection": row.id, "state": state}
            _audit(
                s, now, actor, action, reason, campaign_id=row.campaign_id, call_id=row.call_id, detail=detail
            )
            return _inspection(row)

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
from voicebot.store.models import Call, HandoffRow, InspectionRow, QaResultRow

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

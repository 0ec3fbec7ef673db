"""Quality inspection's records: each call's automatic score by its rubric."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from voicebot.store.models import QaResultRow
from voicebot.store.models import aware as _aware


@dataclass(frozen=True, slots=True)
class QaResult:
    call_id: str
    campaign_id: str | None
    rubric: str
    score: float
    total: float
    passed: bool
    findings: list[dict[str, Any]]
    scored_at: datetime
    part: str = "robot"


def _result(row: QaResultRow) -> QaResult:
    return QaResult(
        row.call_id,
        row.campaign_id,
        row.rubric,
        row.score,
        row.total,
        row.passed,
        list(row.findings),
        _aware(row.scored_at),
        row.part,
    )


class QualityRepo:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    def add_result(
        self,
        call_id: str,
        *,
        campaign_id: str | None,
        rubric: str,
        score: float,
        total: float,
        passed: bool,
        findings: list[dict[str, Any]],
        scored_at: datetime | None = None,
        part: str = "robot",
    ) -> None:
        """The call's score by ``rubric``; a second one for the same call and rubric (the outbox
        replaying a write, a rescoring) replaces the first."""
        with self._sessions.begin() as s:
            row = s.scalar(
                select(QaResultRow).where(QaResultRow.call_id == call_id, QaResultRow.rubric == rubric)
            )
            if row is None:
                row = QaResultRow(call_id=call_id, rubric=rubric)
                s.add(row)
            row.campaign_id, row.score, row.total, row.passed = campaign_id, score, total, passed
            row.findings, row.scored_at, row.part = findings, scored_at or self._now(), part

    def results(self, call_id: str) -> list[QaResult]:
        with self._sessions() as s:
            rows = s.scalars(
                select(QaResultRow).where(QaResultRow.call_id == call_id).order_by(QaResultRow.id)
            )
            return [_result(r) for r in rows]

    def flagged(self, *, since: datetime, campaign_id: str | None = None, limit: int = 200) -> list[QaResult]:
        """Calls that failed their inspection since ``since``, newest first (the inspectors' queue)."""
        with self._sessions() as s:
            since = since.astimezone(UTC)  # SQLite compares the stored text: one zone for both sides
            query = select(QaResultRow).where(QaResultRow.passed.is_(False), QaResultRow.scored_at >= since)
            if campaign_id is not None:
                query = query.where(QaResultRow.campaign_id == campaign_id)
            rows = s.scalars(query.order_by(QaResultRow.scored_at.desc()).limit(limit))
            return [_result(r) for r in rows]

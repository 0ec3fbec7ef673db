"""What the supervisor's wall-board shows, read in one go: calls up now, today's calls per
campaign, and agents' calls today. Rows leave as plain dataclasses; the counting is
``voicebot.console.wallboard``'s (pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from voicebot.store.models import Call, HandoffRow
from voicebot.store.models import aware as _aware

#: A call not completed after this long is not "up" any more (its worker died; reconciliation
#: closes it): the board does not count it.
STALE = timedelta(hours=4)


@dataclass(frozen=True, slots=True)
class LiveCall:
    id: str
    campaign_id: str | None
    state: str
    outcome: str | None
    answered_at: datetime | None
    with_agent: bool  # a hand-off answered and not ended
    agent_waiting_since: datetime | None  # the transfer, while no agent has answered


@dataclass(frozen=True, slots=True)
class CampaignDay:
    campaign_id: str
    attempts: int
    answered: int
    transferred: int
    grades: dict[str, int]


@dataclass(frozen=True, slots=True)
class AgentDay:
    user_id: int
    calls: int
    talk_seconds: float


class BoardRepo:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    def live_calls(self) -> list[LiveCall]:
        now = self._now()
        with self._sessions() as s:
            rows = s.execute(
                select(Call.id, Call.campaign_id, Call.state, Call.outcome, Call.answered_at).where(
                    Call.completed_at.is_(None), Call.created_at >= now - STALE
                )
            ).all()
            ids = [r.id for r in rows]
            offers: dict[str, list[HandoffRow]] = {}
            if ids:
                for h in s.scalars(select(HandoffRow).where(HandoffRow.call_id.in_(ids))):
                    offers.setdefault(h.call_id, []).append(h)
        out = []
        for r in rows:
            handoffs = offers.get(r.id, [])
            with_agent = any(h.answered_at is not None and h.ended_at is None for h in handoffs)
            answered_once = any(h.answered_at is not None for h in handoffs)
            waiting = None
            if r.outcome == "transferred" and not answered_once:
                first = min((_aware(h.offered_at) for h in handoffs), default=None)
                waiting = first or _aware(r.answered_at)
            out.append(
                LiveCall(r.id, r.campaign_id, r.state, r.outcome, _aware(r.answered_at), with_agent, waiting)
            )
        return out

    def campaign_days(self, since: datetime) -> list[CampaignDay]:
        with self._sessions() as s:
            totals = s.execute(
                select(
                    Call.campaign_id,
                    func.count(),
                    func.count(Call.answered_at),
                    func.sum(case((Call.outcome == "transferred", 1), else_=0)),
                )
                .where(Call.created_at >= since, Call.campaign_id.is_not(None))
                .group_by(Call.campaign_id)
            ).all()
            grades = s.execute(
                select(Call.campaign_id, Call.grade, func.count())
                .where(Call.created_at >= since, Call.campaign_id.is_not(None), Call.grade.is_not(None))
                .group_by(Call.campaign_id, Call.grade)
            ).all()
        by_campaign: dict[str, dict[str, int]] = {}
        for campaign_id, grade, count in grades:
            by_campaign.setdefault(str(campaign_id), {})[str(grade)] = count
        return [
            CampaignDay(cid, attempts, answered, int(transferred or 0), by_campaign.get(cid, {}))
            for cid, attempts, answered, transferred in totals
        ]

    def agent_days(self, since: datetime) -> list[AgentDay]:
        with self._sessions() as s:
            rows = s.execute(
                select(
                    HandoffRow.user_id, func.count(), func.coalesce(func.sum(HandoffRow.talk_seconds), 0.0)
                )
                .where(
                    HandoffRow.offered_at >= since,
                    HandoffRow.answered_at.is_not(None),
                    HandoffRow.user_id.is_not(None),
                )
                .group_by(HandoffRow.user_id)
            ).all()
        return [AgentDay(int(user_id or 0), calls, float(talk or 0.0)) for user_id, calls, talk in rows]

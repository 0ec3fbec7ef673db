"""The facts reports are made of (:mod:`voicebot.reports.tables`): campaign calls in a period,
with their transfers, the agents' wrap-ups and the inspection scores."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from voicebot.reports.report import ReportFacts
from voicebot.reports.tables import AgentFact, CallFact, taken
from voicebot.store.models import (
    Call,
    CallEventRow,
    CampaignRow,
    ComplaintRow,
    HandoffRow,
    InspectionRow,
    QaResultRow,
    UserRow,
)
from voicebot.store.models import aware as _aware

FACT_COLUMNS = (
    Call.id,
    Call.campaign_id,
    Call.created_at,
    Call.direction,
    Call.disposition,
    Call.talk_seconds,
    Call.grade,
    Call.outcome,
    Call.opted_out,
    Call.node_path,
    Call.completed_at,
    Call.end_reason,
)
#: Calls read at most per report (a month of a busy campaign; narrow the period beyond).
MAX_CALLS = 500_000


class ReportReads:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    def facts(
        self, since: datetime, until: datetime, campaign_id: str | None = None, *, agents: bool = True
    ) -> ReportFacts:
        """Everything a report over [since, until) is made of; the agents' part when ``agents``."""
        calls, ended_by = self.call_facts(since, until, campaign_id)
        complaints = self.complaint_facts(since, until, campaign_id)
        if not agents:
            return ReportFacts(calls, ended_by, complaints)
        inspected, against = self.agent_quality(since, until)
        return ReportFacts(calls, ended_by, complaints, self.agent_facts(since, until), inspected, against)

    def call_facts(
        self, since: datetime, until: datetime, campaign_id: str | None = None
    ) -> tuple[list[CallFact], dict[str, str | None]]:
        """Campaign calls created in [since, until), and how each ended (end_reason)."""
        since, until = since.astimezone(UTC), until.astimezone(UTC)
        with self._sessions() as s:
            # the columns a report reads (not the transcripts: a month of them is hundreds of MB)
            window = [Call.created_at >= since, Call.created_at < until, Call.campaign_id.is_not(None)]
            if campaign_id is not None:
                window.append(Call.campaign_id == campaign_id)
            query = select(*FACT_COLUMNS).where(*window).order_by(Call.created_at).limit(MAX_CALLS)
            calls = s.execute(query).all()
            limits = _abandon_limits(s)
            answers: dict[str, list[dict[str, Any]]] = defaultdict(list)
            transferred: set[str] = set()
            dispositions: dict[str, list[str]] = defaultdict(list)
            scores: dict[str, tuple[float, bool]] = {}
            # what else the report needs of those calls, each in one query over the same window
            events = (
                select(CallEventRow.call_id, CallEventRow.kind, CallEventRow.data)
                .join(Call, Call.id == CallEventRow.call_id)
                .where(*window, CallEventRow.kind.in_(["transfer", "whisper"]))
            )
            for call_id, kind, data in s.execute(events):
                if kind == "transfer":
                    transferred.add(call_id)
                else:
                    answers[call_id].append(dict(data or {}))
            wrapped = (
                select(HandoffRow.call_id, HandoffRow.disposition)
                .join(Call, Call.id == HandoffRow.call_id)
                .where(*window, HandoffRow.disposition.is_not(None))
            )
            for call_id, disposition in s.execute(wrapped):
                dispositions[call_id].append(disposition or "")
            inspected = (
                select(QaResultRow.call_id, QaResultRow.score, QaResultRow.passed)
                .join(Call, Call.id == QaResultRow.call_id)
                .where(*window, QaResultRow.part == "robot")
                .order_by(QaResultRow.id)
            )
            for call_id, score, passed in s.execute(inspected):
                scores.setdefault(call_id, (score, passed))
        facts = []
        for c in calls:
            campaign = c.campaign_id or ""
            transfer: bool | None = None
            if c.id in transferred and (c.completed_at is not None or answers.get(c.id)):
                transfer = taken(answers.get(c.id, []), limits.get(campaign, 2.0))
            qa = scores.get(c.id)
            facts.append(
                CallFact(
                    c.id,
                    campaign,
                    _aware(c.created_at),
                    c.direction,
                    c.disposition,
                    c.talk_seconds,
                    c.grade,
                    c.outcome,
                    bool(c.opted_out),
                    tuple(c.node_path or ()),
                    transfer,
                    tuple(dispositions.get(c.id, ())),
                    qa[0] if qa else None,
                    qa[1] if qa else None,
                )
            )
        return facts, {c.id: c.end_reason for c in calls}

    def complaint_facts(
        self, since: datetime, until: datetime, campaign_id: str | None = None
    ) -> list[tuple[str, datetime]]:
        """(campaign id, received at) of the complaints about campaign calls in [since, until)."""
        since, until = since.astimezone(UTC), until.astimezone(UTC)
        with self._sessions() as s:
            query = select(ComplaintRow.campaign_id, ComplaintRow.received_at).where(
                ComplaintRow.received_at >= since,
                ComplaintRow.received_at < until,
                ComplaintRow.campaign_id.is_not(None),
            )
            if campaign_id is not None:
                query = query.where(ComplaintRow.campaign_id == campaign_id)
            return [(c or "", _aware(at)) for c, at in s.execute(query)]

    def agent_quality(
        self, since: datetime, until: datetime
    ) -> tuple[dict[str, list[float]], dict[str, int]]:
        """By agent (username): the human inspection scores of the calls they took, and the
        complaints against them, in [since, until)."""
        since, until = since.astimezone(UTC), until.astimezone(UTC)
        with self._sessions() as s:
            scored = s.execute(
                select(UserRow.username, InspectionRow.score)
                .join(HandoffRow, HandoffRow.call_id == InspectionRow.call_id)
                .join(UserRow, UserRow.id == HandoffRow.user_id)
                .where(
                    InspectionRow.score.is_not(None),
                    HandoffRow.answered_at.is_not(None),
                    InspectionRow.scored_at >= since,
                    InspectionRow.scored_at < until,
                )
            ).all()
            against = s.execute(
                select(ComplaintRow.agent).where(
                    ComplaintRow.agent.is_not(None),
                    ComplaintRow.received_at >= since,
                    ComplaintRow.received_at < until,
                )
            ).all()
        scores: dict[str, list[float]] = defaultdict(list)
        for username, score in scored:
            scores[username].append(float(score or 0.0))
        complaints: dict[str, int] = defaultdict(int)
        for (agent,) in against:
            complaints[agent or ""] += 1
        return dict(scores), dict(complaints)

    def agent_facts(self, since: datetime, until: datetime) -> list[AgentFact]:
        """Offers of calls to agents in [since, until), by agent (username, else the phone)."""
        since, until = since.astimezone(UTC), until.astimezone(UTC)
        with self._sessions() as s:
            rows = s.execute(
                select(HandoffRow, UserRow.username)
                .outerjoin(UserRow, UserRow.id == HandoffRow.user_id)
                .where(HandoffRow.offered_at >= since, HandoffRow.offered_at < until)
                .order_by(HandoffRow.offered_at)
                .limit(MAX_CALLS)
            ).all()
            return [
                AgentFact(
                    username or h.interface,
                    _aware(h.offered_at),
                    h.answered_at is not None,
                    h.talk_seconds,
                    h.disposition,
                )
                for h, username in rows
            ]


def _abandon_limits(s: Session) -> Mapping[str, float]:
    limits = {}
    for campaign_id, definition in s.execute(select(CampaignRow.id, CampaignRow.definition)):
        pacing = (definition or {}).get("pacing") or {}
        limits[campaign_id] = float(pacing.get("abandon_after", 2.0))
    return limits

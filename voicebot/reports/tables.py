"""Reports: calls, transfers, agents' results and inspection scores, by campaign and period, and
the script funnel. Pure: facts in (read by :mod:`voicebot.store.reports`), rows out.

A period is a day (2026-12-03), an ISO week (2026-W49) or a month (2026-12) in the report's
time zone. An *abandoned transfer* is one no agent took within the campaign's limit after the
bridging line (as the agent pacing counts it); a transfer still waiting is not counted yet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

Period = Literal["day", "week", "month"]
GRADES = ("A", "B", "C", "D", "E", "F")
#: Talk time buckets (seconds): under 30, 30-60, 1-3 minutes, 3 minutes and more.
TALK_BUCKETS = (
    (0.0, 30.0, "<30s"),
    (30.0, 60.0, "30-60s"),
    (60.0, 180.0, "1-3m"),
    (180.0, float("inf"), "3m+"),
)


@dataclass(frozen=True, slots=True)
class CallFact:
    call_id: str
    campaign_id: str
    created_at: datetime
    direction: str
    disposition: str | None
    talk_seconds: float | None
    grade: str | None
    outcome: str | None
    opted_out: bool
    node_path: tuple[str, ...] = ()
    #: A transfer: True when an agent took it within the limit, False abandoned, None still waiting.
    transfer_taken: bool | None = None
    #: The agents' wrap-up dispositions of the call (sale, callback, not_interested, ...).
    agent_dispositions: tuple[str, ...] = ()
    qa_score: float | None = None
    qa_passed: bool | None = None


@dataclass
class Row:
    """One campaign in one period."""

    period: str
    campaign_id: str
    attempts: int = 0  # outbound calls placed
    answered: int = 0
    inbound: int = 0
    talk: list[float] = field(default_factory=list)
    grades: Counter[str] = field(default_factory=Counter)
    transfers: int = 0
    abandoned: int = 0
    agent_calls: int = 0  # calls an agent wrapped up
    sales: int = 0
    opted_out: int = 0
    inspected: int = 0
    qa_passed: int = 0
    qa_scores: list[float] = field(default_factory=list)
    complaints: int = 0

    @property
    def complaint_rate(self) -> float | None:
        """Complaints received in the period per answered call."""
        return self.complaints / self.answered if self.answered else None

    @property
    def connect_rate(self) -> float | None:
        return self.answered / self.attempts if self.attempts else None

    @property
    def transfer_rate(self) -> float | None:
        return self.transfers / self.answered if self.answered else None

    @property
    def abandon_rate(self) -> float | None:
        return self.abandoned / self.transfers if self.transfers else None

    @property
    def conversion(self) -> float | None:
        return self.sales / self.agent_calls if self.agent_calls else None

    @property
    def opt_out_rate(self) -> float | None:
        return self.opted_out / self.answered if self.answered else None

    @property
    def qa_pass_rate(self) -> float | None:
        return self.qa_passed / self.inspected if self.inspected else None

    @property
    def qa_average(self) -> float | None:
        return sum(self.qa_scores) / len(self.qa_scores) if self.qa_scores else None

    @property
    def talk_average(self) -> float | None:
        return sum(self.talk) / len(self.talk) if self.talk else None

    def talk_buckets(self) -> dict[str, int]:
        return {name: sum(lo <= t < hi for t in self.talk) for lo, hi, name in TALK_BUCKETS}


def period_of(at: datetime, by: Period, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    if by == "day":
        return local.strftime("%Y-%m-%d")
    if by == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.strftime("%Y-%m")


def campaign_rows(
    calls: Iterable[CallFact],
    by: Period,
    zone: ZoneInfo,
    complaints: Iterable[tuple[str, datetime]] = (),
) -> list[Row]:
    """One row per campaign and period, in period then campaign order; ``complaints`` are
    (campaign id, received at)."""
    rows: dict[tuple[str, str], Row] = {}
    for campaign_id, received_at in complaints:
        key = (period_of(received_at, by, zone), campaign_id)
        (rows.get(key) or rows.setdefault(key, Row(*key))).complaints += 1
    for c in calls:
        key = (period_of(c.created_at, by, zone), c.campaign_id)
        row = rows.get(key) or rows.setdefault(key, Row(*key))
        if c.direction == "inbound":
            row.inbound += 1
        else:
            row.attempts += 1
        if c.disposition == "answered":
            row.answered += c.direction != "inbound"
            if c.talk_seconds is not None:
                row.talk.append(c.talk_seconds)
            if c.grade:
                row.grades[c.grade] += 1
            row.opted_out += c.opted_out
        if c.transfer_taken is not None:
            row.transfers += 1
            row.abandoned += not c.transfer_taken
        if c.agent_dispositions:
            row.agent_calls += 1
            row.sales += "sale" in c.agent_dispositions
        if c.qa_score is not None:
            row.inspected += 1
            row.qa_scores.append(c.qa_score)
            row.qa_passed += bool(c.qa_passed)
    return [rows[k] for k in sorted(rows)]


@dataclass(frozen=True, slots=True)
class FunnelStep:
    node: str
    reached: int  # calls whose bot said this node
    left: int  # calls that ended here (the node was their last)
    ended_by_callee: int  # of those, how many the callee hung up on (where callees left)


def funnel(calls: Iterable[CallFact], ended_by: dict[str, str | None] | None = None) -> list[FunnelStep]:
    """How many answered calls reached each script node, and where they ended; in the order the
    nodes were first reached."""
    reached: Counter[str] = Counter()
    left: Counter[str] = Counter()
    hung_up: Counter[str] = Counter()
    order: dict[str, int] = {}
    for c in calls:
        if c.disposition != "answered" or not c.node_path:
            continue
        for i, node in enumerate(dict.fromkeys(c.node_path)):
            reached[node] += 1
            order[node] = min(order.get(node, i), i)
        last = c.node_path[-1]
        left[last] += 1
        if ended_by is not None and ended_by.get(c.call_id) == "callee-hangup":
            hung_up[last] += 1
    return [
        FunnelStep(n, reached[n], left[n], hung_up[n]) for n in sorted(reached, key=lambda n: (order[n], n))
    ]


@dataclass(frozen=True, slots=True)
class AgentFact:
    agent: str
    offered_at: datetime
    answered: bool
    talk_seconds: float | None
    disposition: str | None


@dataclass
class AgentRow:
    period: str
    agent: str
    offered: int = 0
    answered: int = 0
    talk: float = 0.0
    dispositions: Counter[str] = field(default_factory=Counter)

    @property
    def conversion(self) -> float | None:
        wrapped = sum(self.dispositions.values())
        return self.dispositions.get("sale", 0) / wrapped if wrapped else None


def agent_rows(handoffs: Sequence[AgentFact], by: Period, zone: ZoneInfo) -> list[AgentRow]:
    rows: dict[tuple[str, str], AgentRow] = {}
    for h in handoffs:
        key = (period_of(h.offered_at, by, zone), h.agent)
        row = rows.get(key) or rows.setdefault(key, AgentRow(*key))
        row.offered += 1
        row.answered += h.answered
        row.talk += h.talk_seconds or 0.0
        if h.disposition:
            row.dispositions[h.disposition] += 1
    return [rows[k] for k in sorted(rows)]


def taken(answers: Iterable[dict[str, object]], limit: float) -> bool:
    """Whether an agent took a transfer within ``limit`` seconds of the bridging line, from the
    call's ``whisper`` events (``decision``, ``waited``)."""
    for a in answers:
        waited = a.get("waited")
        if a.get("decision") == "accept" and isinstance(waited, int | float) and float(waited) <= limit:
            return True
    return False


#: The outbound rulebook's weights for an agent's scorecard: call volume, results, quality and
#: customer feedback.
SCORECARD_WEIGHTS = {"volume": 0.3, "results": 0.3, "quality": 0.2, "feedback": 0.2}
#: Points of feedback a complaint against the agent costs (of 100).
COMPLAINT_COST = 20.0


@dataclass(frozen=True, slots=True)
class Scorecard:
    agent: str
    volume: float  # 0-100: calls taken against the busiest agent's
    results: float  # 0-100: conversion against the best agent's
    quality: float  # 0-100: the average human inspection score of the agent's calls (100: none yet)
    feedback: float  # 0-100: less COMPLAINT_COST per complaint against the agent
    total: float


def scorecards(
    agents: Sequence[AgentRow],
    inspections: dict[str, list[float]],
    complaints: dict[str, int],
    weights: dict[str, float] = SCORECARD_WEIGHTS,
) -> list[Scorecard]:
    """One scorecard per agent over the period (their rows summed), best first. ``inspections``:
    agent -> inspection scores out of 10; ``complaints``: agent -> complaints against them."""
    taken: dict[str, int] = Counter()
    sold: dict[str, int] = Counter()
    wrapped: dict[str, int] = Counter()
    for r in agents:
        taken[r.agent] += r.answered
        sold[r.agent] += r.dispositions.get("sale", 0)
        wrapped[r.agent] += sum(r.dispositions.values())
    busiest = max(taken.values(), default=0) or 1
    rate = {a: sold[a] / wrapped[a] if wrapped[a] else 0.0 for a in taken}
    best = max(rate.values(), default=0.0) or 1.0
    cards = []
    for agent in taken:
        scores = inspections.get(agent, [])
        parts = {
            "volume": 100 * taken[agent] / busiest,
            "results": 100 * rate[agent] / best,
            "quality": 10 * sum(scores) / len(scores) if scores else 100.0,
            "feedback": max(0.0, 100 - COMPLAINT_COST * complaints.get(agent, 0)),
        }
        total = sum(weights[k] * v for k, v in parts.items())
        p = {k: round(v, 1) for k, v in parts.items()}
        card = Scorecard(agent, p["volume"], p["results"], p["quality"], p["feedback"], round(total, 1))
        cards.append(card)
    return sorted(cards, key=lambda c: (-c.total, c.agent))

"""A whole report: the campaigns by period, the script funnel, the agents and their scorecards,
over a window of days in one time zone. Pure: the facts in, the report out; the terminal, CSV,
Excel, PDF and the console render it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from voicebot.reports.render import agent_records, campaign_records
from voicebot.reports.tables import (
    SCORECARD_WEIGHTS,
    AgentFact,
    AgentRow,
    CallFact,
    FunnelStep,
    Period,
    Row,
    Scorecard,
    agent_rows,
    campaign_rows,
    funnel,
    scorecards,
)


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What the store reads for a report (:meth:`voicebot.store.reports.ReportReads.facts`)."""

    calls: Sequence[CallFact]
    #: call id -> how it ended (end_reason)
    ended_by: Mapping[str, str | None] = field(default_factory=dict)
    #: (campaign id, received at) of the complaints about campaign calls
    complaints: Sequence[tuple[str, datetime]] = ()
    offers: Sequence[AgentFact] = ()
    #: agent -> human inspection scores of the calls they took
    inspected: Mapping[str, list[float]] = field(default_factory=dict)
    #: agent -> complaints against them
    against: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Report:
    first: date
    last: date  # included
    zone: str
    by: Period
    campaign_id: str | None
    calls: int
    rows: list[Row]
    funnel: list[FunnelStep]
    agents: list[AgentRow]
    scorecards: list[Scorecard]
    weights: Mapping[str, float] = field(default_factory=lambda: dict(SCORECARD_WEIGHTS))

    @property
    def weights_text(self) -> str:
        """ "volume 30%, results 30%, quality 20%, customer feedback 20%" """
        names = {"feedback": "customer feedback"}
        return ", ".join(f"{names.get(k, k)} {w:.0%}" for k, w in self.weights.items())

    @property
    def title(self) -> str:
        scope = f"campaign {self.campaign_id}" if self.campaign_id else "all campaigns"
        return f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d} ({self.zone}), by {self.by}: {scope}"

    def sheets(self) -> dict[str, list[dict[str, Any]]]:
        """The report as named tables of flat records (CSV, Excel)."""
        return {
            "campaigns": campaign_records(self.rows),
            "funnel": [
                {
                    "node": s.node,
                    "reached": s.reached,
                    "ended_here": s.left,
                    "callee_hung_up": s.ended_by_callee,
                }
                for s in self.funnel
            ],
            "agents": agent_records(self.agents),
            "scorecards": [dataclasses.asdict(c) for c in self.scorecards],
        }


def build(
    facts: ReportFacts,
    *,
    first: date,
    last: date,
    zone: str,
    by: Period,
    campaign_id: str | None = None,
    weights: Mapping[str, float] = SCORECARD_WEIGHTS,
) -> Report:
    where = ZoneInfo(zone)
    people = agent_rows(facts.offers, by, where)
    return Report(
        first=first,
        last=last,
        zone=zone,
        by=by,
        campaign_id=campaign_id,
        calls=len(facts.calls),
        rows=campaign_rows(facts.calls, by, where, facts.complaints),
        funnel=funnel(facts.calls, dict(facts.ended_by)),
        agents=people,
        scorecards=scorecards(people, dict(facts.inspected), dict(facts.against), dict(weights)),
        weights=dict(weights),
    )

"""The supervisor's wall-board, counted from what the store and the PBX report. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from voicebot.store.board import AgentDay, CampaignDay, LiveCall
from voicebot.store.campaigns import CampaignInfo
from voicebot.store.console import AgentState
from voicebot.store.handoffs import TransferCounts

GRADES = ("A", "B", "C", "D", "E", "F")
WINDOWS = ("30 days", "24 hours", "today")


@dataclass(frozen=True, slots=True)
class CampaignRow:
    id: str
    name: str
    state: str
    mode: str
    max_channels: int
    dialing: int  # originated, not ringing yet
    ringing: int
    bot_talking: int
    waiting_for_agent: int
    with_agent: int
    leads_left: int
    attempts_today: int
    connect_rate: float | None
    transfer_rate: float | None
    grades: dict[str, int]
    abandoned: dict[str, float | None]  # window -> rate
    ceiling: float

    @property
    def red(self) -> bool:
        """Today's or the last 24 hours' abandoned rate is at its ceiling."""
        return any(
            rate is not None and rate >= self.ceiling for w, rate in self.abandoned.items() if w != "30 days"
        )


@dataclass(frozen=True, slots=True)
class AgentRow:
    user_id: int
    name: str
    state: str
    reason: str
    seconds_in_state: float
    call_id: str | None
    calls_today: int
    talk_today: float
    screen: bool  # a screen connected now


@dataclass(frozen=True, slots=True)
class QueueRow:
    name: str
    available: int
    waiting: int
    longest_wait: float
    logged_in: int


@dataclass(frozen=True, slots=True)
class Board:
    campaigns: list[CampaignRow] = field(default_factory=list)
    agents: list[AgentRow] = field(default_factory=list)
    queues: list[QueueRow] = field(default_factory=list)


def campaign_rows(
    campaigns: Iterable[CampaignInfo],
    live: Iterable[LiveCall],
    days: Iterable[CampaignDay],
    left: Mapping[str, Mapping[str, int]],
    transfers: Mapping[str, Mapping[str, TransferCounts]],
) -> list[CampaignRow]:
    by_state: dict[str, Counter[str]] = {}
    for call in live:
        if call.campaign_id is None:
            continue
        count = by_state.setdefault(call.campaign_id, Counter())
        if call.with_agent:
            count["with_agent"] += 1
        elif call.agent_waiting_since is not None:
            count["waiting"] += 1
        elif call.answered_at is not None or call.state == "answered":
            count["bot"] += 1
        elif call.state == "ringing":
            count["ringing"] += 1
        else:
            count["dialing"] += 1
    today = {d.campaign_id: d for d in days}
    rows = []
    for c in campaigns:
        pacing = c.definition.get("pacing") or {}
        day = today.get(c.id)
        count = by_state.get(c.id, Counter())
        windows = transfers.get(c.id, {})
        rows.append(
            CampaignRow(
                id=c.id,
                name=c.name or c.id,
                state=c.state,
                mode=str(pacing.get("mode", "robot")),
                max_channels=int(pacing.get("max_channels", 10)),
                dialing=count["dialing"],
                ringing=count["ringing"],
                bot_talking=count["bot"],
                waiting_for_agent=count["waiting"],
                with_agent=count["with_agent"],
                leads_left=int(left.get(c.id, {}).get("pending", 0)),
                attempts_today=day.attempts if day else 0,
                connect_rate=day.answered / day.attempts if day and day.attempts else None,
                transfer_rate=day.transferred / day.answered if day and day.answered else None,
                grades={g: (day.grades.get(g, 0) if day else 0) for g in GRADES},
                abandoned={w: windows[w].abandoned_rate if w in windows else None for w in WINDOWS},
                ceiling=float(pacing.get("abandon_ceiling", 0.03)),
            )
        )
    return rows


def agent_rows(
    states: Iterable[AgentState], days: Iterable[AgentDay], connected: Iterable[int], now: datetime
) -> list[AgentRow]:
    today = {d.user_id: d for d in days}
    online = set(connected)
    return [
        AgentRow(
            a.user_id,
            a.name,
            a.state,
            a.reason,
            max(0.0, (now - a.since).total_seconds()),
            a.call_id,
            today[a.user_id].calls if a.user_id in today else 0,
            today[a.user_id].talk_seconds if a.user_id in today else 0.0,
            a.user_id in online,
        )
        for a in sorted(states, key=lambda a: (a.state == "offline", a.name))
    ]


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}"


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.1%}"

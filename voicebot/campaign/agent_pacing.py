"""Pacing with humans in the loop: the robot calls only as many people at once as the ready
agents can take when some of them ask for a person. Pure.

The dialer recomputes this every few seconds from the campaign's queue as the PBX sees it
(agents available, callees waiting) and the campaign's recent calls (how often a robot
conversation ends in a transfer, how many transfers were abandoned). With ``p`` the transfer
rate, ``B`` robot calls in progress and the *level* (0.1 to 1), it keeps

    B * p  <=  level * (available - waiting)

so the transfers to expect from the calls in progress never exceed the agents free to take
them. The level falls by 30% with each abandoned transfer (a callee who wanted a person and
got none within the campaign's limit) and climbs back a little with each one taken in time,
balanced so that it settles where half the ceiling of transfers (3% by default) are
abandoned; while today's abandoned rate is at the ceiling it stays at half at most. This is
VICIdial's adaptive dial level, turned around for a robot that talks before it transfers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_LEVEL = 0.1
CEILING_LEVEL = 0.5
DOWN = 0.7


@dataclass(frozen=True, slots=True)
class QueueView:
    """A campaign's queue now, as the PBX reports it (AMI QueueSummary)."""

    available: int  # agents logged in, unpaused and not on a call
    waiting: int  # callees waiting for an agent
    logged_in: int = 0


@dataclass(frozen=True, slots=True)
class TransferHistory:
    """A campaign's recent robot conversations and what became of its transfers."""

    conversations: int  # answered robot conversations in the window
    transfers: int  # of those, handed to an agent
    abandoned: int = 0  # transfers nobody took within the limit (all time counted by the caller)
    taken: int = 0  # transfers an agent took within the limit
    abandoned_today: float | None = None  # today's abandoned rate (share of transfers)


@dataclass
class AgentPacing:
    floor: int = 1  # robot calls kept up while an agent is free, as far as the bound allows
    cap: int = 1000
    ceiling: float = 0.03  # abandoned transfers, as a share of transfers
    prior_rate: float = 0.25  # the transfer rate assumed before calls say otherwise ...
    prior_weight: float = 10.0  # ... worth this many conversations
    level: float = 0.5  # a cautious start: the transfer rate and the agents are not known yet
    _seen: tuple[int, int] | None = None  # (abandoned, taken) at the last update

    def rate(self, history: TransferHistory) -> float:
        """The transfer rate, from the calls so far and the prior (never 0: a first transfer
        must find an agent too)."""
        rate = (history.transfers + self.prior_rate * self.prior_weight) / (
            history.conversations + self.prior_weight
        )
        return max(rate, 0.01)

    def update(self, history: TransferHistory) -> None:
        """Fold in the transfers taken or abandoned since the last update."""
        if self._seen is not None:
            abandoned = max(0, history.abandoned - self._seen[0])
            taken = max(0, history.taken - self._seen[1])
            # balanced to settle at half the ceiling: a fall per abandoned transfer, a rise per taken
            # one, so that they cancel out when target/(1 - target) of the transfers are abandoned
            target = self.ceiling / 2
            self.level *= DOWN**abandoned * DOWN ** (-taken * target / (1 - target))
        self._seen = (history.abandoned, history.taken)
        top = CEILING_LEVEL if self.at_ceiling(history) else 1.0
        self.level = min(top, max(MIN_LEVEL, self.level))

    def at_ceiling(self, history: TransferHistory) -> bool:
        return history.abandoned_today is not None and history.abandoned_today >= self.ceiling

    def concurrency(self, queue: QueueView, history: TransferHistory) -> int:
        """Robot calls the campaign may have up at once now."""
        budget = queue.available - queue.waiting
        if budget <= 0:
            return 0
        rate = self.rate(history)
        bound = math.floor(budget * self.level / rate + 1e-9)
        floor = min(self.floor, math.floor(budget / rate + 1e-9))
        return min(self.cap, max(bound, floor))

    def room(self, queue: QueueView, history: TransferHistory, in_progress: int) -> int:
        """More calls the campaign may place now, with ``in_progress`` of its calls up."""
        return max(0, self.concurrency(queue, history) - in_progress)

    def why(self, queue: QueueView, history: TransferHistory) -> str:
        rate = self.rate(history)
        if queue.available - queue.waiting <= 0:
            return f"no agent free ({queue.available} available, {queue.waiting} callees waiting)"
        slowed = " (abandoned transfers at the ceiling)" if self.at_ceiling(history) else ""
        return (
            f"paced to the agents: {queue.available} available, {queue.waiting} waiting, "
            f"transfer rate {rate:.0%}, level {self.level:.2f}{slowed}"
        )

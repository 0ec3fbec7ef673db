"""The human side of a worker's dialer: for campaigns paced to their agents (``pacing.mode:
agents``), how many more robot calls the agents can absorb now.

Every ``every`` seconds per campaign it reads the campaign's queue from the PBX (QueueSummary:
agents available, callees waiting) and the campaign's transfers of the last 24 hours from the
store (conversations, transfers taken or abandoned), and asks the pure
:class:`~voicebot.campaign.agent_pacing.AgentPacing`. A queue the PBX cannot report holds the
campaign (no agent known free: no call that may ask for one).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from voicebot.campaign.agent_pacing import AgentPacing, QueueView, TransferHistory
from voicebot.campaign.definition import Campaign
from voicebot.errors import VoicebotError
from voicebot.store import Store
from voicebot.telephony.queues import QueueSummary

log = logging.getLogger(__name__)
WINDOW = timedelta(hours=24)

#: queue name -> the queue now (voicebot.telephony.queues.QueueMembers.summary)
Summary = Callable[[str], Awaitable[QueueSummary]]


@dataclass
class _Campaign:
    pacing: AgentPacing
    at: float = -1e9
    view: QueueView = field(default_factory=lambda: QueueView(0, 0))
    history: TransferHistory = field(default_factory=lambda: TransferHistory(0, 0))
    error: str | None = None


class HumanSide:
    def __init__(
        self,
        store: Store,
        summary: Summary,
        *,
        default_queue: str,
        clock: Callable[[], datetime],
        every: float = 3.0,
    ) -> None:
        self._store = store
        self._summary = summary
        self._default_queue = default_queue
        self._clock = clock
        self._every = every
        self._campaigns: dict[str, _Campaign] = {}

    async def room(self, campaign: Campaign, in_progress: int) -> tuple[int, str] | None:
        """More robot calls the campaign may place now and why no more; None: not agent-paced."""
        p = campaign.pacing
        if p.mode != "agents":
            return None
        state = self._campaigns.get(campaign.id)
        if state is None or (state.pacing.floor, state.pacing.ceiling) != (p.floor, p.abandon_ceiling):
            state = self._campaigns[campaign.id] = _Campaign(
                AgentPacing(floor=p.floor, ceiling=p.abandon_ceiling)
            )
        if time.monotonic() - state.at >= self._every:
            await self._refresh(campaign, state)
        if state.error is not None:
            return 0, state.error
        return state.pacing.room(state.view, state.history, in_progress), state.pacing.why(
            state.view, state.history
        )

    async def _refresh(self, campaign: Campaign, state: _Campaign) -> None:
        state.at = time.monotonic()
        queue = campaign.queue or self._default_queue
        try:
            summary = await self._summary(queue)
            now = self._clock()
            repo = self._store.console
            limit = campaign.pacing.abandon_after
            day = await self._store.run(repo.transfer_counts, campaign.id, now - WINDOW, limit=limit)
            midnight = now.astimezone(ZoneInfo(campaign.timezone)).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            today = await self._store.run(repo.transfer_counts, campaign.id, midnight, limit=limit)
        except VoicebotError as e:
            state.error = f"agents' queue {queue} unknown: {e.message}"
            return
        state.error = None
        state.view = QueueView(summary.available, summary.waiting, summary.logged_in)
        state.history = TransferHistory(
            day.conversations, day.transfers, day.abandoned, day.taken, today.abandoned_rate
        )
        state.pacing.update(state.history)

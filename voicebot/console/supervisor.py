"""The supervisor's wall-board, gathered: the store's calls, campaigns and agents, the PBX's
queues, counted by :mod:`voicebot.console.wallboard`."""

from __future__ import annotations

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

from voicebot.console.desk import Desk
from voicebot.console.wallboard import Board, QueueRow, agent_rows, campaign_rows
from voicebot.errors import VoicebotError
from voicebot.store import Store
from voicebot.store.handoffs import TransferCounts

log = logging.getLogger(__name__)


async def board(store: Store, desk: Desk, *, default_queue: str, zone: str = "Asia/Shanghai") -> Board:
    now = store.now()
    midnight = now.astimezone(ZoneInfo(zone)).replace(hour=0, minute=0, second=0, microsecond=0)
    campaigns = await store.run(store.campaigns.campaigns)
    live = await store.run(store.board.live_calls)
    days = await store.run(store.board.campaign_days, midnight)
    left = {c.id: await store.run(store.campaigns.remaining, c.id, now) for c in campaigns}
    transfers: dict[str, dict[str, TransferCounts]] = {}
    for c in campaigns:
        limit = float((c.definition.get("pacing") or {}).get("abandon_after", 2.0))
        transfers[c.id] = {
            window: await store.run(store.console.transfer_counts, c.id, since, limit=limit)
            for window, since in (
                ("30 days", now - timedelta(days=30)),
                ("24 hours", now - timedelta(hours=24)),
                ("today", midnight),
            )
        }
    states = await store.run(store.console.agent_states)
    agent_days = await store.run(store.board.agent_days, midnight)
    queues = sorted(
        {str(c.definition.get("queue") or default_queue) for c in campaigns if c.state == "running"}
        | {q for a in states if a.state != "offline" for q in a.queues}
    )
    rows = []
    for name in queues:
        try:
            s = await desk.summary(name)
        except VoicebotError as e:
            log.debug("queue %s not reported: %s", name, e)
            continue
        rows.append(QueueRow(name, s.available, s.waiting, s.longest_wait, s.logged_in))
    return Board(
        campaign_rows(campaigns, live, days, left, transfers),
        agent_rows(states, agent_days, [a.user_id for a in states if desk.connected(a.user_id)], now),
        rows,
    )

"""Agents at their desks: the states their screens set, carried out on the PBX's queues, and
what the queues report turned into hand-off records and screen-pops.

An agent is *ready* (in their queues, unpaused), *paused* (with a reason), in *wrapup* after a
call (paused until they file the wrap-up), *talking*, or *offline* (out of the queues). A
screen's live-update stream is its heartbeat: a ready agent whose every screen has been gone
for ``grace`` seconds is paused ("screen lost"), so no call is routed to a dead screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from voicebot.console.auth import User
from voicebot.errors import ConsoleError, TelephonyError, VoicebotError
from voicebot.store import Store
from voicebot.store.console import AgentState, UserInfo
from voicebot.telephony.queues import AgentQueues, QueueEvent, QueueSummary, check_reason

log = logging.getLogger(__name__)

STATES = ("ready", "paused", "wrapup", "talking", "offline")
#: The states an agent may pick on their screen (wrap-up and talking come from calls).
CHOSEN = ("ready", "paused", "offline")
SCREEN_QUEUE = 100


@dataclass(frozen=True, slots=True)
class Push:
    """One live update for a screen: ``kind`` names it (state, ring, answered, ended...)."""

    kind: str
    data: dict[str, Any]


class Desk:
    """The agents' side of the console: one per console process."""

    def __init__(self, store: Store, members: AgentQueues, *, grace: float = 10.0) -> None:
        self._store = store
        self._members = members
        self._grace = grace
        self._screens: dict[int, set[asyncio.Queue[Push]]] = defaultdict(set)
        self._lost: dict[int, asyncio.Task[None]] = {}
        self._events: asyncio.Queue[QueueEvent] = asyncio.Queue(maxsize=10_000)
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._follow_queues(), name="desk")

    async def close(self) -> None:
        tasks = [t for t in [self._worker, *self._lost.values()] if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- states -------------------------------------------------------------------------
    async def set_state(self, user: User, state: str, reason: str = "") -> AgentState:
        """Carry a chosen state out on the queues, then record it and tell the agent's screens."""
        if state not in CHOSEN:
            raise ConsoleError(f"an agent cannot choose the state {state!r}", hint=" / ".join(CHOSEN))
        if not user.is_agent or not user.interface:
            raise ConsoleError(
                f"{user.username} is no agent with a phone", hint="voicebot users add --interface"
            )
        reason = check_reason(reason.strip()) if state == "paused" else ""
        await self._on_queues(user, state, reason or ("paused" if state == "paused" else ""))
        return await self._record(user.id, state, reason)

    async def _on_queues(self, user: User | UserInfo, state: str, reason: str) -> None:
        assert user.interface is not None
        try:
            for queue in user.queues:
                if state == "offline":
                    await self._members.leave(queue, user.interface)
                else:
                    await self._members.join(
                        queue, user.interface, user.name, paused=state != "ready", reason=reason
                    )
        except TelephonyError as e:
            raise ConsoleError(f"the PBX did not take the change: {e.message}", hint="try again") from e

    async def _record(self, user_id: int, state: str, reason: str, call_id: str | None = None) -> AgentState:
        agent = await self._store.run(
            self._store.console.set_agent_state, user_id, state, reason, call_id=call_id
        )
        self.push(user_id, Push("state", {"state": state, "reason": reason, "call_id": call_id}))
        return agent

    async def reassert(self) -> None:
        """Put every agent back on the queues as their state says (after the PBX restarted or the
        AMI link came back: Asterisk forgets dynamic members when it restarts)."""
        for agent in await self._store.run(self._store.console.agent_states):
            user = await self._store.run(self._store.console.user_by_id, agent.user_id)
            if user is None or agent.state == "offline" or not user.interface:
                continue
            try:
                await self._on_queues(user, agent.state, agent.reason)
            except VoicebotError as e:
                log.warning("could not put agent %s back on the queues: %s", user.username, e)

    # -- screens ------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def screen(self, user: User) -> AsyncIterator[asyncio.Queue[Push]]:
        """A screen's live updates while it is connected (the heartbeat)."""
        queue: asyncio.Queue[Push] = asyncio.Queue(maxsize=SCREEN_QUEUE)
        self._screens[user.id].add(queue)
        lost = self._lost.pop(user.id, None)
        if lost is not None:
            lost.cancel()
        try:
            yield queue
        finally:
            self._screens[user.id].discard(queue)
            if not self._screens[user.id] and user.is_agent:
                self._lost[user.id] = asyncio.create_task(self._screen_lost(user), name=f"lost-{user.id}")

    async def beat(self, user: User) -> None:
        await self._store.run(self._store.console.heartbeat, user.id)

    async def _screen_lost(self, user: User) -> None:
        await asyncio.sleep(self._grace)
        if self._screens[user.id]:
            return
        self._lost.pop(user.id, None)
        agent = await self._store.run(self._store.console.agent_state, user.id)
        if agent is None or agent.state != "ready":
            return
        log.warning("agent %s: screen gone for %.0f s, paused", user.username, self._grace)
        try:
            await self._on_queues(user, "paused", "screen lost")
        except ConsoleError as e:
            log.error("could not pause agent %s whose screen is gone: %s", user.username, e)
        await self._record(user.id, "paused", "screen lost")

    def push(self, user_id: int, push: Push) -> None:
        for queue in list(self._screens.get(user_id, ())):
            if queue.full():  # a stalled screen loses its oldest update, never blocks the others
                queue.get_nowait()
            queue.put_nowait(push)

    async def summary(self, queue: str) -> QueueSummary:
        return await self._members.summary(queue)

    def hang_up_screens(self) -> None:
        """Tell every screen's stream to end (the console is stopping)."""
        for user_id in list(self._screens):
            self.push(user_id, Push("closing", {}))

    def connected(self, user_id: int) -> bool:
        return bool(self._screens.get(user_id))

    # -- what the queues report ----------------------------------------------------------
    def on_queue_event(self, event: QueueEvent) -> None:
        try:
            self._events.put_nowait(event)
        except asyncio.QueueFull:
            log.error("queue events pile up: dropped %s of call %s", event.kind, event.call_id)

    async def _follow_queues(self) -> None:
        while True:
            event = await self._events.get()
            try:
                await self._apply(event)
            except VoicebotError as e:
                log.error("queue event %s of call %s not recorded: %s", event.kind, event.call_id, e)

    async def _apply(self, e: QueueEvent) -> None:
        repo = self._store.console
        if e.kind == "ringing":
            handoff = await self._store.run(
                repo.offered, e.call_id, interface=e.interface, queue=e.queue, wait_seconds=e.wait_seconds
            )
            if handoff.user_id is not None:
                ring = {"call_id": e.call_id, "queue": e.queue, "at": time.time()}
                self.push(handoff.user_id, Push("ring", ring))
        elif e.kind == "answered":
            answered = await self._store.run(
                repo.answered,
                e.call_id,
                interface=e.interface,
                wait_seconds=e.wait_seconds,
                ring_seconds=e.ring_seconds,
            )
            if answered is not None and answered.user_id is not None:
                await self._record(answered.user_id, "talking", "", call_id=e.call_id)
        elif e.kind == "no_answer":
            let_go = await self._store.run(
                repo.not_answered, e.call_id, interface=e.interface, ring_seconds=e.ring_seconds
            )
            if let_go is not None and let_go.user_id is not None:
                await self._pause_after(let_go.user_id, "no answer", e.call_id)
        elif e.kind == "declined":
            refused = await self._store.run(repo.declined, e.call_id, interface=e.interface)
            if refused is not None and refused.user_id is not None:
                await self._pause_after(refused.user_id, "declined", e.call_id)
        elif e.kind == "completed":
            ended = await self._store.run(
                repo.completed, e.call_id, interface=e.interface, talk_seconds=e.talk_seconds
            )
            if ended is not None and ended.user_id is not None and ended.result == "completed":
                await self._pause_after(ended.user_id, "wrap-up", ended.call_id, state="wrapup")

    async def _pause_after(self, user_id: int, reason: str, call_id: str, *, state: str = "paused") -> None:
        """After a call (wrap-up) or a ring the agent let go (no answer): off the queue's list
        until the agent says ready again."""
        user = await self._store.run(self._store.console.user_by_id, user_id)
        if user is None or not user.interface:
            return
        try:
            for queue in user.queues:
                await self._members.pause(queue, user.interface, paused=True, reason=reason)
        except VoicebotError as e:
            log.error("could not pause agent %s after call %s: %s", user.username, call_id, e)
        await self._record(user_id, state, reason, call_id=call_id)

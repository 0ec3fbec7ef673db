"""Calls this worker did not start following: calls a dead worker left up (recovered and
followed to their end) and calls another system originated into voicebot-outbound (adopted).
A part of :class:`voicebot.calls.service.CallService`."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from voicebot.calls.closing import rounded
from voicebot.calls.legs import BotLeg
from voicebot.calls.live import MAX_TRANSFERRED_SECONDS, Live
from voicebot.dialog.grading import grade
from voicebot.store import CallRecord, Store
from voicebot.store.outbox import Outbox
from voicebot.telephony.callstate import CallEvent, CallProgress
from voicebot.telephony.cdr import Cdr, CdrError, CdrReader
from voicebot.telephony.pbx import CallHandle, Pbx

if TYPE_CHECKING:
    from voicebot.calls.service import CallOutcome

log = logging.getLogger(__name__)


class Survivors:
    _live: dict[str, Live]
    _adopted: set[asyncio.Task[None]]
    _pbx: Pbx
    _store: Store
    _outbox: Outbox
    _cdr: CdrReader | None
    _max_call_seconds: float

    if TYPE_CHECKING:

        def _event(self, call_id: str, kind: str, data: dict[str, Any]) -> None: ...

        async def _create(self, live: Live, record: CallRecord) -> None: ...

        async def _complete(
            self, live: Live, progress: CallProgress, error: str | None = None
        ) -> CallOutcome: ...

        def _on_progress(self, handle: CallHandle, event: CallEvent) -> None: ...

    async def is_up(self, call_id: str) -> bool:
        """Whether the PBX still has a channel of this call."""
        return await self._pbx.find(call_id) is not None

    async def recover(self, call_id: str) -> CallRecord | None:
        """A call whose dialer died while it was up: follow it on the PBX to its end.

        None if the PBX no longer has it. The bot's side is gone (its session ended with
        the process); what the record's events say of it is kept: a call that had been
        handed to an agent is ``transferred``.
        """
        channel = await self._pbx.find(call_id)
        if channel is None:
            return None
        before = await self._store.get_call(call_id)
        live = self._live[call_id] = Live(call_id, record=before or CallRecord(id=call_id, destination=""))
        self._event(call_id, "recovered", {"channel": channel})
        live.handle = self._pbx.follow(call_id, call_id, channel)
        try:
            # most calls still up after their worker died are with an agent
            progress = await live.handle.wait_settled(timeout=MAX_TRANSFERRED_SECONDS)
            record = (await self._complete(live, progress)).record
        except TimeoutError:
            error = "call still up after 4 hours with an agent"
            record = (await self._complete(live, live.handle.progress, error=error)).record
        # following began at recovery: the times before it are the ones the record already had
        fields: dict[str, Any] = {}
        if before is not None and before.answered_at is not None:
            fields.update(answered_at=before.answered_at, originated_at=before.originated_at)
            fields["ring_seconds"] = before.ring_seconds
            if record.ended_at is not None:
                fields["talk_seconds"] = rounded((record.ended_at - before.answered_at).total_seconds())
        kinds = {e.kind for e in await self._store.events(call_id)}
        if "transfer" in kinds:  # the bot had handed the callee to an agent
            fields.update(
                outcome="transferred", grade=grade(connected=True, outcome="transferred", intents=())
            )
        if not fields:
            return record
        await self._outbox.write("update_call", call_id=call_id, fields=fields)
        return dataclasses.replace(record, **fields)

    async def cdr(self, call_id: str) -> Cdr | None:
        """What Asterisk recorded of a call (None: no CDR database, or no row for it yet)."""
        if self._cdr is None:
            return None
        try:
            return await self._cdr.find(call_id)
        except CdrError as e:
            log.warning("%s; closing the call from its journal alone", e.message, extra={"call_id": call_id})
            return None

    async def _adopt(self, call: BotLeg) -> Live:
        """A call that another process or system originated into voicebot-outbound.

        It gets a record and a follower like our own calls; its record completes
        when the channel hangs up and the session is done.
        """
        live = self._live[call.call_id] = Live(call.call_id)
        await self._create(
            live,
            CallRecord(
                id=call.call_id,
                direction="external",
                destination=call.caller_id or call.channel,
                channel=call.channel,
                lead_id=call.lead_id or None,
                campaign_id=call.campaign_id or None,
            ),
        )
        live.handle = self._pbx.follow(call.call_id, call.uniqueid, call.channel, on_change=self._on_progress)
        task = asyncio.create_task(self._adopted_to_end(live), name=f"adopted-{call.call_id}")
        self._adopted.add(task)
        task.add_done_callback(self._adopted.discard)
        return live

    async def _adopted_to_end(self, live: Live) -> None:
        await self._follow_to_end(live)

    async def _follow_to_end(self, live: Live) -> CallRecord:
        """Complete the record of a call we did not place when its channel hangs up."""
        assert live.handle is not None
        try:
            progress = await live.handle.wait_settled(timeout=self._max_call_seconds + 60)
        except TimeoutError:
            if live.transferred_at is None:
                error = "call did not end within max_call_seconds"
                return (await self._complete(live, live.handle.progress, error=error)).record
            try:  # with an agent: it lasts as long as they talk
                progress = await live.handle.wait_settled(timeout=MAX_TRANSFERRED_SECONDS)
            except TimeoutError:
                error = "call still up after 4 hours with an agent"
                return (await self._complete(live, live.handle.progress, error=error)).record
        return (await self._complete(live, progress)).record

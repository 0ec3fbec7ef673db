"""The warm transfer's far side: the two FastAGI routes the hand-off dialplan calls (a part of
:class:`voicebot.calls.service.CallService`).

``whisper``: the queue runs ``AGI(agi://VOICEBOT/whisper,CALL_ID)`` on the agent's channel when
they answer, before the callee is bridged (Queue's gosub, context ``voicebot-whisper``). The
agent alone hears who is coming (name, grade, what they said last) over AudioSocket; a 2
declines (the agent's leg is hung up and the queue rings the next agent), a 1 or silence
accepts. The route sets ``VOICEBOT_WHISPER`` to ``accept`` or ``decline``.

``back``: when the campaign's wait passes and no agent took the call, the dialplan brings the
callee back with ``AGI(agi://VOICEBOT/back,CALL_ID,QUEUESTATUS)``: a second bot session from the
script's ``no_agent`` node (apologize, offer a callback). The record keeps both sessions.

On FreeSWITCH mod_callcenter's wait is the queue's, not the campaign's: voicebot keeps the
campaign's ``agent_wait`` itself and, when it passes with no agent on the call (the queue's
``bridge-agent-start`` says when one answers), moves the callee out of the queue to
``voicebot-transfer``'s ``back``, which hands the call to voicebot's call socket again
(``VOICEBOT_ROUTE=back``): the same second session. No whisper there (yet).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from voicebot.calls.context import ScriptResult
from voicebot.calls.legs import AgiLeg, BotLeg
from voicebot.calls.live import Live, quietly
from voicebot.calls.session import SessionResult
from voicebot.errors import AgiError, TelephonyError, VoicebotError
from voicebot.media.stream import DtmfIn, HangupIn, MediaStream
from voicebot.telephony.agi import AgiCall
from voicebot.telephony.queues import QueueEvent

log = logging.getLogger(__name__)

#: After the whisper, how long the agent has to press 2 before the callee is bridged.
DECLINE_WINDOW = 1.5
#: A whisper longer than this is cut: the callee waits while the agent listens.
MAX_WHISPER_SECONDS = 15.0
#: After a decline, the callee waits again for another agent if this much of their wait is left.
MIN_REQUEUE = 3.0

#: The call id -> the whisper's audio (8 kHz PCM), or None for no whisper.
Whisperer = Callable[[str], Awaitable[bytes | None]]


async def whisper_session(stream: MediaStream, pcm: bytes, window: float) -> str:
    """Play the whisper to the agent; "decline" on a 2, "accept" on a 1 or when ``window``
    seconds pass after it ended, "gone" if the agent hung up."""

    async def keys() -> str:
        async for event in stream.events():
            if isinstance(event, DtmfIn) and event.digit in "12":
                return "decline" if event.digit == "2" else "accept"
            if isinstance(event, HangupIn) and event.reason != "local":
                return "gone"
        return "gone"

    async def play_then_wait() -> str:
        await stream.play(pcm)
        await asyncio.sleep(window)
        return "accept"

    tasks = [asyncio.create_task(keys()), asyncio.create_task(play_then_wait())]
    try:
        done, _ = await asyncio.wait(
            tasks, timeout=MAX_WHISPER_SECONDS + window, return_when="FIRST_COMPLETED"
        )
        verdict = next(iter(done)).result() if done else "accept"
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    await stream.hangup()  # AudioSocket returns: the gosub goes on (bridge, or hang up on a decline)
    return verdict


def merged(first: SessionResult | None, second: SessionResult) -> SessionResult:
    """The record of a call the bot took back from the queue: both sessions, one transcript
    (the second's times moved past the first's), the second's outcome."""
    if first is None:
        return second
    offset = first.ended - first.started
    turns = (
        *first.turns,
        *(dataclasses.replace(t, start=t.start + offset, end=t.end + offset) for t in second.turns),
    )
    script = second.script
    if first.script is not None and script is not None:
        script = ScriptResult(
            outcome=script.outcome,
            transfer_to=None,
            opted_out=first.script.opted_out or script.opted_out,
            callback=script.callback,
            node_path=[*first.script.node_path, *script.node_path],
            intents=[*first.script.intents, *script.intents],
            grade=script.grade or first.script.grade,
        )
    return dataclasses.replace(
        second,
        started=first.started,
        bot_audio_seconds=first.bot_audio_seconds + second.bot_audio_seconds,
        callee_audio_seconds=first.callee_audio_seconds + second.callee_audio_seconds,
        callee_audio_rms=max(first.callee_audio_rms, second.callee_audio_rms),
        turns=turns,
        script=script,
    )


class Handoffs:
    """The ``whisper`` and ``back`` routes over the call service's live calls."""

    _live: dict[str, Live]
    _by_media: dict[str, str]
    _side_media: dict[str, Callable[[MediaStream], Awaitable[None]]]
    _whisperer: Whisperer | None
    _decline_window: float
    _max_call_seconds: float
    _audiosocket_address: Callable[[], str]

    if TYPE_CHECKING:

        def _event(self, call_id: str, kind: str, data: dict[str, Any]) -> None: ...

    def _transferred(self, live: Live | None) -> bool:
        """A callee waiting for an agent: the bot transferred them, or they called in to agents."""
        if live is not None and live.inbound and live.transferred_at is not None:
            return True
        script = live.session_result.script if live is not None and live.session_result else None
        return script is not None and script.transfer_to is not None

    async def on_whisper(self, call: AgiCall) -> None:
        live = self._live.get(call.call_id)
        # the agent picked up now: how long after the bridging line (abandoned transfers count it)
        waited = None
        if live is not None and live.transferred_at is not None:
            waited = round(asyncio.get_running_loop().time() - live.transferred_at, 3)
        if not self._transferred(live):
            # not a call of ours waiting for an agent: bridge without a whisper
            await quietly(call.command("SET VARIABLE VOICEBOT_WHISPER accept"))
            return
        pcm = None
        try:
            pcm = await self._whisperer(call.call_id) if self._whisperer is not None else None
        except VoicebotError as e:  # no whisper is better than no bridge
            log.error("no whisper for the agent: %s", e, extra={"call_id": call.call_id})
        verdict = "accept"
        if pcm:
            media_id = str(uuid.uuid4())
            outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()

            async def side(stream: MediaStream) -> None:
                outcome.set_result(await whisper_session(stream, pcm, self._decline_window))

            self._side_media[media_id] = side
            try:
                await call.command(
                    f"EXEC AudioSocket {media_id},{self._audiosocket_address()}",
                    timeout=MAX_WHISPER_SECONDS + self._decline_window + 10,
                )
            except AgiError as e:
                log.warning(
                    "whisper to %s failed: %s", call.channel, e.message, extra={"call_id": call.call_id}
                )
            finally:
                self._side_media.pop(media_id, None)
            # the session's verdict lands as its hangup frame makes AudioSocket return: wait for it
            with contextlib.suppress(TimeoutError):
                verdict = await asyncio.wait_for(asyncio.shield(outcome), 2.0)
        data: dict[str, Any] = {"agent": call.channel, "decision": verdict, "waited": waited}
        if live is not None:
            live.agent_took = live.agent_took or verdict == "accept"
            live.declined += verdict != "accept"
        self._event(call.call_id, "whisper", data)
        await quietly(
            call.command(f"SET VARIABLE VOICEBOT_WHISPER {'decline' if verdict != 'accept' else verdict}")
        )

    async def on_back(self, call: AgiCall) -> None:
        """The queue let the callee go: after an agent's call (hang up), after a decline with
        time left (queue again), or with no agent in time (the bot takes them back)."""
        live = self._live.get(call.call_id)
        if live is None or not self._transferred(live) or live.back or live.agent_took:
            await quietly(call.command("HANGUP"))  # an agent had the call (or it is not ours)
            return
        now = asyncio.get_running_loop().time()
        left = live.agent_wait - (now - (live.transferred_at or now))
        if live.declined and left >= MIN_REQUEUE:
            self._event(call.call_id, "requeued", {"seconds_left": round(left, 1)})
            await quietly(call.command(f"SET VARIABLE VOICEBOT_QUEUE_WAIT {int(left)}"))
            await quietly(call.command("SET VARIABLE VOICEBOT_REQUEUE 1"))
            return
        # the route's second argument is QUEUESTATUS
        await self._take_back(live, AgiLeg(call, self._audiosocket_address), call.lead_id)

    async def on_back_leg(self, leg: BotLeg) -> None:
        """FreeSWITCH: the callee voicebot moved out of the queue (no agent in time) is at the
        call socket again: the bot takes them back."""
        live = self._live.get(leg.call_id)
        if live is None or not self._transferred(live) or live.back or live.agent_took:
            await leg.refuse()
            return
        await self._take_back(live, leg, "TIMEOUT")

    async def _take_back(self, live: Live, leg: BotLeg, status: str) -> None:
        """The bot's second session with a callee no agent took: from the script's no_agent
        node, on the same record (both sessions merged)."""
        live.back = True
        self._event(live.call_id, "no_agent", {"queue_status": status})
        first = live.session_result
        live.media_started, live.session_done = False, asyncio.Event()
        live.media_id = str(uuid.uuid4())
        self._by_media[live.media_id] = live.call_id
        try:
            await leg.bridge(live.media_id, timeout=self._max_call_seconds + 60)
        except (TelephonyError, TimeoutError) as e:  # AGI "fails" when the callee hangs up
            if not live.media_started:
                message = e.message if isinstance(e, TelephonyError) else "media timed out"
                log.error(
                    "the bot could not take the call back: %s", message, extra={"call_id": live.call_id}
                )
        if live.media_started:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(live.session_done.wait(), 5.0)
        if live.session_result is not None and live.session_result is not first:
            live.session_result = merged(first, live.session_result)
        else:
            live.session_result = first

    def on_queue_event(self, event: QueueEvent) -> None:
        """FreeSWITCH: the queue's news of our calls (an agent answered: the call is theirs)."""
        live = self._live.get(event.call_id)
        if live is not None and event.kind == "answered":
            live.agent_took = True

    async def _await_agent(self, live: Live, bring_back: Callable[[str], Awaitable[None]]) -> None:
        """FreeSWITCH: when the campaign's wait passes and no agent has answered, move the
        callee out of the queue back to the bot."""
        await asyncio.sleep(live.agent_wait)
        if live.agent_took or live.back or self._live.get(live.call_id) is not live:
            return
        try:
            await bring_back(live.call_id)
        except VoicebotError as e:
            log.warning(
                "no agent in time, and the callee could not be taken back: %s",
                e.message,
                extra={"call_id": live.call_id},
            )

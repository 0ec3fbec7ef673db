"""Placing calls and keeping their records.

For each call the record is written *before* the originate, so a crash never
loses a dialed call. Two things then complete it: the PBX's view (state,
disposition, hangup cause, from AMI) and the media session's (who hung up, how
much audio went each way). The record is marked completed when both are in.

Every write goes through the outbox: a database that is away never stops a call
or loses what it wrote (the writes wait in a local file and are replayed in
order). So the service keeps each live call's record itself, and returns it
without reading the database back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from voicebot.calls.closing import at, bot_part, closing_fields
from voicebot.calls.destination import Destination
from voicebot.calls.ears import Ears
from voicebot.calls.handoff import DECLINE_WINDOW, Handoffs, Whisperer
from voicebot.calls.inbound import Inbound, InboundEnded, Router
from voicebot.calls.legs import BotLeg
from voicebot.calls.live import MAX_TRANSFERRED_SECONDS, Live, is_uuid
from voicebot.calls.session import Behaviour, CallSession
from voicebot.calls.survivors import Survivors
from voicebot.errors import TelephonyError, VoicebotError
from voicebot.media.amd import Verdict, detect, wait_for_silence
from voicebot.media.stream import MediaStream
from voicebot.store import CallRecord, Store
from voicebot.store.outbox import Outbox
from voicebot.telephony.agi import AgiCall
from voicebot.telephony.callstate import CallEvent, CallProgress, Disposition
from voicebot.telephony.cdr import CdrReader
from voicebot.telephony.pbx import CallHandle, OriginateRequest, Pbx
from voicebot.telephony.pbxlog import why_refused

log = logging.getLogger(__name__)

#: (the completed record, whether the bot waited for the callee to hang up): scores the call.
Inspector = Callable[[CallRecord, bool], Awaitable[None]]

#: How long a settled call may wait for its media session to finish writing.
SESSION_DRAIN_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class CallOutcome:
    call_id: str
    disposition: str
    record: CallRecord


#: Where the dialplan plays a machine the campaign's message (voicebot-transfer, FreeSWITCH).
MACHINE_MESSAGE = "machine-message"


class CallService(Survivors, Handoffs, Inbound):
    """Originates calls, runs their sessions, and writes their records."""

    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        pbx: Pbx,
        behaviour: Callable[[str], Behaviour],
        ears: Callable[[MediaStream], Ears],
        *,
        context: str,
        exten: str = "s",
        bot_variables: Callable[[], Mapping[str, str]],
        audiosocket_address: Callable[[], str],
        ring_timeout: float = 30.0,
        caller_id: str = "",
        max_call_seconds: float = 600.0,
        hangup_grace: float = 0.0,
        on_opt_out: Callable[[str, str], Awaitable[None]] | None = None,
        cdr: CdrReader | None = None,
        adopt_external: bool = False,
        queue: str = "voicebot-agents",
        agent_wait: float = 30.0,
        whisperer: Whisperer | None = None,
        no_agent: Callable[[str], Behaviour] | None = None,
        decline_window: float = DECLINE_WINDOW,
        pbx_log: Path | None = None,
        router: Router | None = None,
        inbound: Callable[[str], Behaviour] | None = None,
        on_inbound_end: InboundEnded | None = None,
        inspector: Inspector | None = None,
        take_back: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        #: Scores each completed call (quality inspection); never holds up the call's end.
        self._inspector = inspector
        #: Callees calling back (voicebot-inbound): where they go, what the bot does, what follows.
        self._router = router
        self._inbound_behaviour = inbound
        self._on_inbound_end = on_inbound_end
        self._pbx_log = pbx_log
        self._agent_wait = agent_wait
        #: The whisper an agent hears before a transfer is bridged (None: none).
        self._whisperer = whisperer
        #: What the bot does when no agent took a transfer in time (default: the call's behaviour).
        self._no_agent = no_agent
        #: FreeSWITCH: moves a callee still waiting for an agent after the campaign's wait back
        #: to the bot (mod_callcenter's wait is the queue's); None: the dialplan does (Asterisk).
        self._take_back_from_queue = take_back
        self._waits: set[asyncio.Task[None]] = set()  # transfers waiting for an agent (FreeSWITCH)
        self._decline_window = decline_window
        #: AudioSocket sessions that are not a callee's conversation (an agent's whisper).
        self._side_media: dict[str, Callable[[MediaStream], Awaitable[None]]] = {}
        self._store = store
        self._pbx = pbx
        self._behaviour = behaviour
        self._ears = ears
        self._context = context
        self._exten = exten
        #: Where the PBX finds the bot: VOICEBOT_AGI (Asterisk) or VOICEBOT_SOCKET (FreeSWITCH).
        self._bot_variables = bot_variables
        #: Asterisk's AudioSocket address for the whisper, the return from the queue, inbound calls.
        self._audiosocket_address = audiosocket_address
        self._ring_timeout = ring_timeout
        self._caller_id = caller_id
        self._max_call_seconds = max_call_seconds
        self._hangup_grace = hangup_grace
        self._on_opt_out = on_opt_out
        self._cdr = cdr
        self._adopt_external = adopt_external
        self._queue = queue
        self._outbox = outbox
        self._live: dict[str, Live] = {}
        self._by_media: dict[str, str] = {}  # AudioSocket session id -> call id, until media starts
        self._tasks: set[asyncio.Task[Any]] = set()  # record updates
        self._adopted: set[asyncio.Task[None]] = set()  # followers of calls we did not originate

    async def close(self) -> None:
        """Stop following adopted calls and waiting transfers, and finish pending record writes."""
        for task in [*self._adopted, *self._waits]:
            task.cancel()
        await asyncio.gather(*self._adopted, *self._waits, return_exceptions=True)
        await self._drain()

    @property
    def live_calls(self) -> int:
        return len(self._live)

    @property
    def talking(self) -> int:
        """Calls up and answered right now."""
        return sum(1 for live in self._live.values() if live.handle and live.handle.progress.answered_at)

    async def place(
        self,
        destination: Destination,
        *,
        shown_as: str | None = None,
        lead_id: str | None = None,
        campaign_id: str | None = None,
        call_id: str | None = None,
        variables: Mapping[str, str] | None = None,
        caller_id: str | None = None,
    ) -> CallOutcome:
        """Place one call and wait until its record is complete.

        ``variables`` become channel variables of the call (the dialplan reads
        VOICEBOT_AMD, for one); ``call_id`` is given by the dialer, whose attempt has it;
        ``caller_id`` is the number shown (default: the service's).
        """
        call_id = call_id or str(uuid.uuid4())
        live = self._live[call_id] = Live(call_id)
        await self._create(
            live,
            CallRecord(
                id=call_id,
                destination=shown_as or destination.number or destination.channel,
                channel=destination.channel,
                lead_id=lead_id,
                campaign_id=campaign_id,
            ),
        )
        variables = {
            "VOICEBOT_QUEUE": self._queue,
            "VOICEBOT_QUEUE_WAIT": str(round(self._agent_wait)),
            **(variables or {}),
            "VOICEBOT_CALL_ID": call_id,
            **self._bot_variables(),
            "VOICEBOT_LEAD": lead_id or "",
            "VOICEBOT_CAMPAIGN": campaign_id or "",
        }
        live.agent_wait = float(variables["VOICEBOT_QUEUE_WAIT"])
        request = OriginateRequest(
            call_id=call_id,
            channel=destination.channel,
            context=self._context,
            exten=self._exten,
            ring_timeout=self._ring_timeout,
            caller_id=caller_id or self._caller_id,
            variables=variables,
        )
        try:
            live.handle = await self._pbx.originate(request, on_change=self._on_progress)
            self._event(call_id, "originate", {"channel": destination.channel})
            limit = self._ring_timeout + self._max_call_seconds + 60
            try:
                progress = await live.handle.wait_settled(timeout=limit)
            except TimeoutError:
                script = live.session_result.script if live.session_result else None
                if script is None or not script.transfer_to:
                    raise
                # the bot handed the callee to an agent: the call lasts as long as they talk
                progress = await live.handle.wait_settled(timeout=MAX_TRANSFERRED_SECONDS)
        except (VoicebotError, TimeoutError) as e:
            log.error("call failed: %s", e, extra={"call_id": call_id})
            progress = live.handle.progress if live.handle else CallProgress()
            return await self._complete(live, progress, error=str(e) or type(e).__name__)
        return await self._complete(live, progress)

    # -- the record, through the outbox ---------------------------------------------------
    async def _create(self, live: Live, record: CallRecord) -> None:
        live.record = dataclasses.replace(record, created_at=record.created_at or self._store.now())
        await self._outbox.write("create_call", record=live.record)

    async def _update(self, live: Live, **fields: Any) -> CallRecord:
        assert live.record is not None
        live.record = dataclasses.replace(live.record, **fields)
        await self._outbox.write("update_call", call_id=live.call_id, fields=fields)
        return live.record

    def _event(self, call_id: str, kind: str, data: dict[str, Any]) -> None:
        """Journal an event of the call, in order with its other writes; never waits."""
        self._outbox.submit("add_event", call_id=call_id, kind=kind, data=data, at=datetime.now(UTC))

    def _on_progress(self, handle: CallHandle, event: CallEvent) -> None:
        self._event(handle.call_id, type(event).__name__.lower(), _event_data(event))
        live = self._live.get(handle.call_id)
        if live is None:
            return
        progress = handle.progress
        fields: dict[str, Any] = {"state": progress.state.value, "channel": progress.channel or None}
        if progress.originated_at:
            fields["originated_at"] = at(progress.originated_at)
        if progress.answered_at:
            fields["answered_at"] = at(progress.answered_at)
        self._spawn(self._update(live, **{k: v for k, v in fields.items() if v}))

    async def _complete(self, live: Live, progress: CallProgress, error: str | None = None) -> CallOutcome:
        if live.media_started:
            try:
                await asyncio.wait_for(live.session_done.wait(), SESSION_DRAIN_TIMEOUT)
            except TimeoutError:
                log.warning(
                    "media session still running after the call ended", extra={"call_id": live.call_id}
                )
        await self._drain()
        session = live.session_result
        disposition, fields = closing_fields(
            progress,
            session,
            error=error,
            machine=live.machine is not None,
            recording=live.recording,
            now=datetime.now(UTC),
        )
        if disposition is Disposition.PBX_ERROR:
            fields["error"] = await self._why_refused(live.call_id, progress.channel)
        if session is not None and session.script is not None and session.script.opted_out:
            # already done when the callee said it; again in case that write failed
            failed = await self._block_opted_out(live.call_id)
            if failed is not None:
                fields["error"] = f"opt-out not on the do-not-call list: {failed}"
        record = await self._update(live, **fields)
        self._event(live.call_id, "completed", {"disposition": disposition.value})
        if self._inspector is not None:
            try:
                await self._inspector(record, live.bot_waited)
            except VoicebotError as e:
                log.error("call not inspected: %s", e.message, extra={"call_id": live.call_id})
        self._live.pop(live.call_id, None)
        self._by_media.pop(live.media_id or "", None)
        self._pbx.forget(live.call_id)
        return CallOutcome(live.call_id, disposition.value, record)

    async def _why_refused(self, call_id: str, channel: str) -> str:
        """Asterisk's reason for tearing the channel down (from its log), logged and recorded."""
        reasons: list[str] = []
        for attempt in range(3 if self._pbx_log is not None else 0):
            if attempt:  # Asterisk's logger thread may write a moment after the Hangup event
                await asyncio.sleep(0.2)
            assert self._pbx_log is not None
            reasons = await asyncio.to_thread(why_refused, self._pbx_log, channel)
            if reasons:
                break
        said = "; ".join(reasons) if reasons else f"its log ({self._pbx_log}) does not say why"
        log.warning("the PBX refused call %s on %s: %s", call_id, channel, said, extra={"call_id": call_id})
        return f"PBX refused the call: {said}"

    # -- the call enters the bot -------------------------------------------------------
    async def on_bot(self, leg: BotLeg) -> None:
        """The answered call enters the bot (FastAGI on Asterisk, the call socket on FreeSWITCH):
        answer, then bridge its audio to the bot's session."""
        live = self._live.get(leg.call_id)
        if live is None:
            if not is_uuid(leg.call_id):
                log.warning("bot call without a valid call id (%r); hanging up", leg.call_id)
                await leg.refuse()
                return
            if not self._adopt_external:
                log.warning(
                    "bot call %s was not placed by voicebot and [call] adopt_external is off; hanging up",
                    leg.call_id,
                )
                await leg.refuse()
                return
            live = await self._adopt(leg)
        elif live.agi_seen:  # one bot session per call: a second request is not the PBX's
            log.warning("second bot request for call %s refused", leg.call_id)
            await leg.refuse()
            return
        live.agi_seen = True
        live.media_id = str(uuid.uuid4())
        self._by_media[live.media_id] = leg.call_id
        live.recording = f"voicebot/{leg.call_id}.wav"
        live.amd = leg.machine_check
        self._event(leg.call_id, "agi", {"channel": leg.channel})
        try:
            await leg.answer()
            # returns when the call's media ends
            await leg.bridge(live.media_id, timeout=self._max_call_seconds + 60)
        except (TelephonyError, TimeoutError) as e:
            if not live.media_started:
                message = e.message if isinstance(e, TelephonyError) else "media timed out"
                self._event(leg.call_id, "media_failed", {"error": message})
                log.error("media never started: %s", message, extra={"call_id": leg.call_id})
        # The session decides whether a human takes over: wait for it to finish its record.
        if live.media_started:
            try:
                await asyncio.wait_for(live.session_done.wait(), 5.0)
            except TimeoutError:
                return
        if live.machine is not None and live.amd == "message":
            await leg.set_transfer(MACHINE_MESSAGE)  # the dialplan plays the campaign's message
            return
        script = live.session_result.script if live.session_result else None
        if script is not None and script.transfer_to and live.session_result is not None:
            # the agent's screen shows what the bot heard: the bot's part is in the record first
            await self._update(live, **bot_part(live.session_result))
            live.transferred_at = asyncio.get_running_loop().time()
            await leg.set_transfer(script.transfer_to)
            self._event(leg.call_id, "transfer", {"queue": script.transfer_to})
            self._wait_for_agent(live)
        # Returning lets go of the call; the dialplan transfers (VOICEBOT_TRANSFER) or hangs up (16).

    def _wait_for_agent(self, live: Live) -> None:
        """FreeSWITCH: keep the campaign's agent_wait for a callee now in the agents' queue."""
        if self._take_back_from_queue is None:
            return  # Asterisk's Queue keeps it (VOICEBOT_QUEUE_WAIT)
        wait = asyncio.create_task(
            self._await_agent(live, self._take_back_from_queue), name=f"agent-wait-{live.call_id}"
        )
        self._waits.add(wait)
        wait.add_done_callback(self._waits.discard)

    async def on_machine(self, call: AgiCall) -> None:
        """FastAGI ``machine``: the dialplan's AMD found an answering machine (it hangs up or
        leaves the campaign's message next)."""
        live = self._live.get(call.call_id)
        if live is None or live.agi_seen:  # AMD runs before the bot takes the call, never after
            log.warning("AMD result for call %r refused (not a call waiting for the bot)", call.call_id)
            return
        live.machine = call.lead_id or "MACHINE"  # the route's second argument is AMDCAUSE
        self._event(call.call_id, "machine", {"cause": live.machine})

    async def on_media(self, stream: MediaStream) -> None:
        """AudioSocket: run the call's session on its media stream. The stream's id is the media
        id this call's AGI gave the PBX; it is good for one stream."""
        side = self._side_media.pop(stream.call_id, None)
        if side is not None:
            await side(stream)
            return
        call_id = self._by_media.pop(stream.call_id, None)
        live = self._live.get(call_id) if call_id is not None else None
        if live is None or live.media_started:
            log.warning("AudioSocket stream %s refused (not a media id the bot gave out)", stream.call_id)
            await stream.hangup()
            return
        live.media_started = True
        try:
            if live.amd and not live.back and await self._answered_by_machine(live, stream):
                return
            behaviour = self._behaviour
            if live.back and self._no_agent is not None:
                behaviour = self._no_agent
            elif live.inbound and self._inbound_behaviour is not None:
                behaviour = self._inbound_behaviour
            session = CallSession(
                live.call_id,
                stream,
                behaviour(live.call_id),
                self._journal(live.call_id),
                self._ears(stream),
                max_seconds=self._max_call_seconds,
                hangup_grace=self._hangup_grace,
            )
            live.session_result = await session.run()
        finally:
            live.session_done.set()

    async def _answered_by_machine(self, live: Live, stream: MediaStream) -> bool:
        """Voicebot's own answering-machine detection, before the bot speaks (FreeSWITCH; on
        Asterisk the dialplan's AMD() ran already). True when there is no one to talk to: a
        machine (after its greeting, for the campaign's message), or a far end already gone."""
        result = await detect(stream)
        self._event(
            live.call_id,
            "amd",
            {"verdict": result.verdict.value, "cause": result.cause, "after_ms": result.after_ms},
        )
        if not result.machine:
            return result.verdict is Verdict.HANGUP
        live.machine = result.cause
        self._event(live.call_id, "machine", {"cause": result.cause})
        if live.amd == "message":
            await wait_for_silence(stream)  # the greeting is over: its beep, then the message
        return True

    async def _block_opted_out(self, call_id: str) -> str | None:
        """The callee refused: put the number on the list (the hook). The error, if that failed."""
        live = self._live.get(call_id)
        if self._on_opt_out is None or live is None or live.record is None:
            return None
        try:
            await self._on_opt_out(call_id, live.record.destination)
        except VoicebotError as e:
            log.error("could not block the number after an opt-out: %s", e, extra={"call_id": call_id})
            return e.message
        return None

    def _journal(self, call_id: str) -> Callable[..., Any]:
        async def journal(kind: str, **data: Any) -> None:
            if kind == "opt_out":
                await self._block_opted_out(call_id)
            elif kind == "hangup_grace" and call_id in self._live:
                self._live[call_id].bot_waited = True
            self._event(call_id, kind, data)

        return journal

    # -- task ownership ----------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._reap)

    def _reap(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("record update failed: %s", task.exception())

    async def _drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _event_data(event: CallEvent) -> dict[str, Any]:
    data = {k: getattr(event, k) for k in event.__slots__ if k != "at"}
    data["ts"] = event.at
    return data

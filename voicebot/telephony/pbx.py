"""Call control on the PBX: originate, follow, hang up.

``Pbx`` is the interface the rest of voicebot uses; ``AsteriskPbx`` implements it
over AMI. Each originated call gets a :class:`CallHandle` whose progress is
folded from AMI events by the pure :mod:`voicebot.telephony.callstate` machine.
Asterisk's ``ChannelId`` makes the call id the channel's Uniqueid (and the
Linkedid of every channel in the call), so events are routed without guessing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from panoramisk.message import Message

from voicebot.errors import AmiActionError, AmiDisconnected
from voicebot.telephony.ami import AmiClient
from voicebot.telephony.callstate import (
    PBX_DOWN_WINDOW,
    Answered,
    CallEvent,
    CallProgress,
    CallState,
    HangupRequested,
    HungUp,
    Originated,
    OriginateResult,
    PbxDown,
    Ringing,
    Vanished,
)

log = logging.getLogger(__name__)

#: After the end, wait this long for late events (a peer leg's hangup cause).
SETTLE_GRACE = 0.3
#: After a failed OriginateResponse, how long to wait for the channel's own Hangup event.
FAILED_HANGUP_GRACE = 2.0
_STATE_RINGING, _STATE_UP = "5", "6"


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    call_id: str
    channel: str
    context: str
    exten: str = "s"
    priority: int = 1
    ring_timeout: float = 30.0
    caller_id: str = ""
    variables: Mapping[str, str] = field(default_factory=dict)


class CallHandle:
    """One call's progress; ``wait_settled`` returns when the outcome is final."""

    def __init__(
        self, call_id: str, on_change: Callable[[CallHandle, CallEvent], None] | None = None
    ) -> None:
        self.call_id = call_id
        self.progress = CallProgress()
        self.events: list[CallEvent] = []
        self._settled = asyncio.Event()
        self._settle_timer: asyncio.TimerHandle | None = None
        self._settle_grace = 0.0
        self._on_change = on_change

    def apply(self, event: CallEvent) -> None:
        self.events.append(event)
        self.progress = self.progress.apply(event)
        if self._on_change is not None:
            self._on_change(self, event)
        if not self.progress.settled or self._settled.is_set():
            return
        # a conversation hung up with no cause may be the PBX going down: wait to hear if it says so
        p = self.progress
        unclear = p.answered_at is not None and p.cause == 0 and not (p.cut_by or p.vanished)
        grace = PBX_DOWN_WINDOW if unclear else SETTLE_GRACE
        if self._settle_timer is not None and self._settle_grace > grace:
            self._settle_timer.cancel()  # the cause is known now
            self._settle_timer = None
        if self._settle_timer is None:
            self._settle_grace = grace
            self._settle_timer = asyncio.get_running_loop().call_later(grace, self._settled.set)

    async def wait_settled(self, timeout: float | None = None) -> CallProgress:
        await asyncio.wait_for(self._settled.wait(), timeout)
        return self.progress


class Pbx(Protocol):
    async def originate(
        self, request: OriginateRequest, on_change: Callable[[CallHandle, CallEvent], None] | None = None
    ) -> CallHandle: ...

    async def hangup(self, channel: str, cause: int = 16) -> None: ...

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None: ...

    def follow(
        self,
        call_id: str,
        uniqueid: str,
        channel: str,
        on_change: Callable[[CallHandle, CallEvent], None] | None = None,
    ) -> CallHandle:
        """Follow a call voicebot did not originate, already answered, by its channel's Uniqueid."""
        ...

    def forget(self, call_id: str) -> None:
        """Stop following a call whose record is complete."""

    async def find(self, call_id: str) -> str | None:
        """The channel of a call still up on the PBX (by its call id = Linkedid), or None."""
        ...


class FollowedCalls:
    """The calls a PBX layer follows, by the id its events name them with; what both PBXs do
    with them alike."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._calls: dict[str, CallHandle] = {}

    @property
    def active_calls(self) -> list[CallHandle]:
        return list(self._calls.values())

    def follow(
        self,
        call_id: str,
        uniqueid: str,
        channel: str,
        on_change: Callable[[CallHandle, CallEvent], None] | None = None,
    ) -> CallHandle:
        """Follow a call voicebot did not originate, already answered, by its channel's id."""
        handle = CallHandle(call_id, on_change)
        self._calls[uniqueid] = handle
        now = self._clock()
        handle.apply(Originated(now, channel))
        handle.apply(Answered(now))
        return handle

    def forget(self, call_id: str) -> None:
        for key, handle in list(self._calls.items()):
            if handle.call_id == call_id:
                del self._calls[key]

    def _pbx_down(self, reason: str, why: str) -> None:
        """The PBX went down: the calls it held ended with it (and those it just hung up)."""
        now = self._clock()
        cut = 0
        for handle in list(self._calls.values()):
            before = handle.progress.cut_by
            handle.apply(PbxDown(now, reason))
            cut += not before and bool(handle.progress.cut_by)
        log.warning("%s: %d calls cut", why, cut)


class AsteriskPbx(FollowedCalls):
    """The :class:`Pbx` of an Asterisk reached over AMI."""

    def __init__(self, ami: AmiClient, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self.ami = ami
        self._waiters: set[asyncio.Task[None]] = set()
        #: When the PBX started (CoreStatus): another value after a reconnect means it restarted.
        self._started: str | None = None
        self._said_shutdown = False  # it said so before going down: nothing more to learn
        ami.on_event(self._on_event)
        ami.on_reconnect(self.reconcile)

    async def originate(
        self, request: OriginateRequest, on_change: Callable[[CallHandle, CallEvent], None] | None = None
    ) -> CallHandle:
        """Queue an Originate; the handle follows the call until it settles.

        Raises :class:`AmiActionError` when Asterisk refuses the action outright.
        """
        handle = CallHandle(request.call_id, on_change)
        self._calls[request.call_id] = handle
        action: dict[str, Any] = {
            "Action": "Originate",
            "Channel": request.channel,
            "Context": request.context,
            "Exten": request.exten,
            "Priority": str(request.priority),
            "Timeout": str(int(request.ring_timeout * 1000)),
            "Async": "true",
            "ChannelId": request.call_id,
            "Variable": [f"{k}={v}" for k, v in request.variables.items()],
        }
        if request.caller_id:
            action["CallerID"] = request.caller_id
        try:
            future = self.ami.send_nowait(action)
        except AmiDisconnected:
            self._calls.pop(request.call_id, None)
            raise
        waiter = asyncio.create_task(self._await_result(handle, future), name=f"originate-{request.call_id}")
        self._waiters.add(waiter)
        waiter.add_done_callback(self._waiters.discard)
        # Let an immediate refusal surface as an error rather than a silent failure.
        await asyncio.sleep(0)
        return handle

    async def hangup(self, channel: str, cause: int = 16) -> None:
        await self.ami.action({"Action": "Hangup", "Channel": channel, "Cause": str(cause)})

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None:
        await self.ami.action(
            {
                "Action": "Redirect",
                "Channel": channel,
                "Context": context,
                "Exten": exten,
                "Priority": str(priority),
            }
        )

    async def find(self, call_id: str) -> str | None:
        for m in await self._status():
            if m.event == "Status" and call_id in (m.get("Linkedid"), m.get("Uniqueid")):
                return str(m.get("Channel", ""))
        return None

    async def _status(self) -> list[Message]:
        result = await self.ami.action({"Action": "Status"}, timeout=10.0)
        return result if isinstance(result, list) else [result]

    async def start(self) -> None:
        """Once connected: note when the PBX started, to tell its restarts from a dropped link."""
        self._started = await self._startup()

    async def _startup(self) -> str | None:
        """When the PBX last started, as it says (None if it cannot be asked now)."""
        try:
            status = await self.ami.action({"Action": "CoreStatus"}, timeout=5.0)
        except (AmiActionError, AmiDisconnected):
            return None
        return f"{status.get('CoreStartupDate', '')} {status.get('CoreStartupTime', '')}"

    async def reconcile(self) -> None:
        """After a reconnect: learn whether the PBX restarted meanwhile and which followed calls
        still exist; end the ones that do not (cut by the PBX if it restarted)."""
        started = await self._startup()
        restarted = None not in (started, self._started) and started != self._started
        self._started = started or self._started
        if restarted and not self._said_shutdown:  # it crashed or was killed, silently
            self._pbx_down("pbx-restart", f"PBX restarted while AMI was down (up since {started})")
        self._said_shutdown = False
        if not self._calls:
            return
        try:
            messages = await self._status()
        except (AmiActionError, AmiDisconnected) as e:
            log.warning("cannot reconcile calls after reconnect: %s", e)
            return
        live: dict[str, Message] = {}
        for m in messages:
            if m.event == "Status" and m.uniqueid:
                live[m.uniqueid] = m
        now = self._clock()
        for call_id, handle in list(self._calls.items()):
            if handle.progress.ended:
                continue
            status = live.get(call_id)
            if status is None:
                log.info("call vanished while AMI was down", extra={"call_id": call_id})
                handle.apply(Vanished(now))
            elif status.get("ChannelState") == _STATE_UP:
                handle.apply(Answered(now))

    async def _await_result(self, handle: CallHandle, future: asyncio.Future[Any]) -> None:
        try:
            result = await future
        except AmiDisconnected:
            return  # reconcile() settles it after the reconnect
        messages = result if isinstance(result, list) else [result]
        for m in messages:
            if m.event == "OriginateResponse":
                success = m.response == "Success"
                handle.apply(OriginateResult(self._clock(), success, int(m.reason or 0)))
                if not success:
                    await self._end_failed(handle)
                return
        first = messages[0]
        if first.response in ("Error", "Failure"):
            log.error("originate refused: %s", first.message, extra={"call_id": handle.call_id})
            handle.apply(OriginateResult(self._clock(), False, 0))
            handle.apply(HungUp(self._clock(), 0, f"originate refused: {first.message}"))

    async def _end_failed(self, handle: CallHandle) -> None:
        """A failed originate whose channel never showed up, or never hung up, still ends.

        Asterisk sends no channel events at all when the channel cannot be created
        (unknown technology, no such endpoint).
        """
        if handle.progress.state is CallState.PENDING:
            handle.apply(HungUp(self._clock(), 0, "channel could not be created"))
            return
        await asyncio.sleep(FAILED_HANGUP_GRACE)
        if not handle.progress.ended:
            handle.apply(HungUp(self._clock(), 0, "originate failed"))

    def _on_event(self, message: Message) -> None:
        if message.event == "Shutdown":  # the link drops next; the reconnect finds it restarted
            restart = message.get("Restart") == "True"
            self._said_shutdown = True
            self._pbx_down(
                "pbx-restart" if restart else "pbx-shutdown",
                f"PBX {'restarting' if restart else 'shutting down'} ({message.get('Shutdown', '')})",
            )
            return
        # Calls are keyed by the Uniqueid of their primary channel, which is also the
        # Linkedid of every other channel in the call.
        for key in (message.get("Linkedid"), message.get("Uniqueid")):
            handle = self._calls.get(key) if key else None
            if handle is not None:
                event = translate(message, key, self._clock())
                if event is not None:
                    handle.apply(event)
                return


def translate(message: Message | Mapping[str, str], call_id: str, at: float) -> CallEvent | None:
    """One AMI event of a followed call as a call-state event (None if irrelevant)."""
    kind = message.get("Event")
    primary = message.get("Uniqueid") == call_id
    if kind == "Newchannel" and primary:
        return Originated(at, message.get("Channel", ""))
    if kind == "Newstate" and primary:
        state = message.get("ChannelState")
        if state == _STATE_RINGING:
            return Ringing(at)
        if state == _STATE_UP:
            return Answered(at)
    if kind in ("HangupRequest", "SoftHangupRequest") and primary:
        with contextlib.suppress(ValueError):
            return HangupRequested(at, int(message.get("Cause") or 0))
    if kind == "Hangup":
        with contextlib.suppress(ValueError):
            tech = message.get("TechCause")  # PJSIP: the SIP final response (Asterisk 22 reports it)
            cause, text = int(message.get("Cause") or 0), message.get("Cause-txt", "")
            return HungUp(at, cause, text, primary, int(tech) if tech and tech.isdigit() else None)
    if kind == "OriginateResponse":
        return OriginateResult(at, message.get("Response") == "Success", int(message.get("Reason") or 0))
    return None

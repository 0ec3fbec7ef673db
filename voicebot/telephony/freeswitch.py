"""Call control on FreeSWITCH over its event socket: the :class:`Pbx` that AsteriskPbx is on AMI.

Each call is originated with ``origination_uuid`` set to the call id, so the callee's channel's
Unique-ID *is* the call id and its events are routed without guessing. Channel events become
the same call-state events as Asterisk's (:func:`translate`): CHANNEL_CREATE, PROGRESS, ANSWER,
HANGUP (a hangup request with its cause) and HANGUP_COMPLETE (the end, with the Q.850 cause and,
for SIP, the final response). The originate's own result (``bgapi``'s BACKGROUND_JOB, ``+OK`` or
``-ERR CAUSE``) is the OriginateResult.

After a reconnect, ``uptime`` tells a restarted FreeSWITCH from a dropped connection (its calls
went with it), and ``uuid_exists`` which followed calls are still up.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Mapping

from voicebot.errors import EslActionError, EslDisconnected
from voicebot.telephony.callstate import (
    Answered,
    CallEvent,
    CallState,
    HangupRequested,
    HungUp,
    Originated,
    OriginateResult,
    Ringing,
    Vanished,
)
from voicebot.telephony.esl.client import EslClient
from voicebot.telephony.esl.protocol import Event
from voicebot.telephony.pbx import CallHandle, FollowedCalls, OriginateRequest

log = logging.getLogger(__name__)

#: FreeSWITCH's names of the Q.850 causes (switch_types.h), for events that give only the name.
Q850 = {
    "UNALLOCATED_NUMBER": 1,
    "NO_ROUTE_TRANSIT_NET": 2,
    "NO_ROUTE_DESTINATION": 3,
    "NORMAL_CLEARING": 16,
    "USER_BUSY": 17,
    "NO_USER_RESPONSE": 18,
    "NO_ANSWER": 19,
    "SUBSCRIBER_ABSENT": 20,
    "CALL_REJECTED": 21,
    "NUMBER_CHANGED": 22,
    "DESTINATION_OUT_OF_ORDER": 27,
    "INVALID_NUMBER_FORMAT": 28,
    "FACILITY_REJECTED": 29,
    "NORMAL_UNSPECIFIED": 31,
    "NORMAL_CIRCUIT_CONGESTION": 34,
    "NETWORK_OUT_OF_ORDER": 38,
    "NORMAL_TEMPORARY_FAILURE": 41,
    "SWITCH_CONGESTION": 42,
    "REQUESTED_CHAN_UNAVAIL": 44,
    "BEARERCAPABILITY_NOTAVAIL": 58,
    "INCOMPATIBLE_DESTINATION": 88,
    "RECOVERY_ON_TIMER_EXPIRE": 102,
    "ORIGINATOR_CANCEL": 487,
    "MANAGER_REQUEST": 503,
}
#: An originate's -ERR cause as Asterisk's OriginateResponse reason (3 no answer, 5 busy,
#: 8 congestion): the disposition reads the same either way.
_REASONS = {
    "USER_BUSY": 5,
    "NO_ANSWER": 3,
    "NO_USER_RESPONSE": 3,
    "PROGRESS_TIMEOUT": 3,
    "ALLOTTED_TIMEOUT": 3,
    "NORMAL_CIRCUIT_CONGESTION": 8,
    "SWITCH_CONGESTION": 8,
}
_ANSWERED = 4
#: How long past the ring timeout an originate's result may take before the call is checked.
RESULT_GRACE = 10.0
#: A value inside originate's {var=value,...}: nothing that could end it or start another.
_SAFE_VALUE = re.compile(r"[A-Za-z0-9_.:@/+\-=#*]*")
_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SAFE_CHANNEL = re.compile(r"[A-Za-z0-9_.:@/+\-=#*]+")


class FreeSwitchPbx(FollowedCalls):
    """The :class:`Pbx` of a FreeSWITCH reached over its event socket."""

    def __init__(self, esl: EslClient, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self.esl = esl
        self._jobs: set[asyncio.Task[None]] = set()
        #: When FreeSWITCH started (now minus its uptime): later after a reconnect = it restarted.
        self._started: float | None = None
        self._said_shutdown = False
        esl.on_event(self._on_event)
        esl.on_reconnect(self.reconcile)

    async def start(self) -> None:
        """Once connected: note when FreeSWITCH started, to tell its restarts from a dropped link."""
        self._started = await self._startup()

    async def originate(
        self, request: OriginateRequest, on_change: Callable[[CallHandle, CallEvent], None] | None = None
    ) -> CallHandle:
        """``bgapi originate``: the callee's channel (uuid = the call id) goes to ``request.exten``
        in ``request.context`` once it answers. Raises :class:`EslActionError` for a value that
        could change the command, or when FreeSWITCH refuses it outright."""
        line = originate_command(request)
        handle = CallHandle(request.call_id, on_change)
        self._calls[request.call_id] = handle
        try:
            job = await self.esl.bgapi(line)
        except (EslDisconnected, EslActionError):
            self._calls.pop(request.call_id, None)
            raise
        waiter = asyncio.create_task(
            self._await_result(handle, job, request.ring_timeout), name=f"originate-{request.call_id}"
        )
        self._jobs.add(waiter)
        waiter.add_done_callback(self._jobs.discard)
        return handle

    async def hangup(self, channel: str, cause: int = 16) -> None:
        """Hang up a call by its channel's uuid (the call id) with a Q.850 cause."""
        name = next((n for n, c in Q850.items() if c == cause), "NORMAL_CLEARING")
        await self.esl.api(f"uuid_kill {_checked_uuid(channel)} {name}")

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> None:
        """Send a call to ``exten`` in ``context`` of the XML dialplan (``priority`` is Asterisk's)."""
        for value in (context, exten):
            _check_value("dialplan target", value)
        await self.esl.api(f"uuid_transfer {_checked_uuid(channel)} {exten} XML {context}")

    async def find(self, call_id: str) -> str | None:
        """The call's channel (its uuid, the call id) if it is still up, else None."""
        exists = await self.esl.api(f"uuid_exists {_checked_uuid(call_id)}", check=False)
        return call_id if exists.strip() == "true" else None

    async def reconcile(self) -> None:
        """After a reconnect: did FreeSWITCH restart meanwhile (its calls went with it), and
        which followed calls are still up; the others ended unseen."""
        started = await self._startup()
        restarted = started is not None and self._started is not None and started > self._started + 2
        self._started = started or self._started
        if restarted and not self._said_shutdown:
            self._pbx_down("pbx-restart", "FreeSWITCH restarted while the event socket was down")
        self._said_shutdown = False
        now = self._clock()
        for key, handle in list(self._calls.items()):
            if handle.progress.ended:
                continue
            try:
                alive = await self.find(key)
            except (EslActionError, EslDisconnected) as e:
                log.warning("cannot reconcile calls after reconnect: %s", e)
                return
            if alive is None:
                log.info("call vanished while the event socket was down", extra={"call_id": key})
                handle.apply(Vanished(now))

    async def _startup(self) -> float | None:
        try:
            seconds = await self.esl.api("uptime s", timeout=5.0)
        except (EslActionError, EslDisconnected):
            return None
        return self._clock() - float(seconds.strip()) if seconds.strip().isdigit() else None

    async def _await_result(self, handle: CallHandle, job: asyncio.Future[str], ring_timeout: float) -> None:
        """The originate's result; one that never comes (FreeSWITCH over its session rate, say)
        ends the call when its channel does not exist either, rather than leave it pending."""
        while True:
            try:
                result = (await asyncio.wait_for(asyncio.shield(job), ring_timeout + RESULT_GRACE)).strip()
                break
            except EslDisconnected:
                return  # reconcile() settles it after the reconnect
            except TimeoutError:
                if handle.progress.ended:
                    return
                try:
                    alive = await self.find(handle.call_id)
                except (EslActionError, EslDisconnected):
                    continue
                if alive is None and handle.progress.state is CallState.PENDING:
                    log.error("FreeSWITCH never answered the originate", extra={"call_id": handle.call_id})
                    now = self._clock()
                    handle.apply(OriginateResult(now, False, 0))
                    handle.apply(HungUp(now, 0, "FreeSWITCH never answered the originate"))
                    return
        handle.apply(originate_result(result, self._clock()))

    def _on_event(self, event: Event) -> None:
        if event.name == "SHUTDOWN":
            self._said_shutdown = True
            self._pbx_down("pbx-shutdown", "FreeSWITCH shutting down")
            return
        handle = self._calls.get(event.uuid)
        if handle is None:  # another leg of a followed call (the agent's) tells only its cause
            handle = self._calls.get(event.get("variable_VOICEBOT_CALL_ID"))
            if handle is None:
                return
        found = translate(event, handle.call_id, self._clock())
        if found is not None:
            handle.apply(found)


def translate(event: Event, call_id: str, at: float) -> CallEvent | None:
    """One event of a followed call as a call-state event (None if irrelevant)."""
    primary = event.uuid == call_id
    name = event.name
    if name == "CHANNEL_CREATE" and primary:
        return Originated(at, event.get("Channel-Name"))
    if name in ("CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA") and primary:
        return Ringing(at)
    if name == "CHANNEL_ANSWER" and primary:
        return Answered(at)
    if name == "CHANNEL_HANGUP" and primary:
        return HangupRequested(at, Q850.get(event.get("Hangup-Cause"), 0))
    if name == "CHANNEL_HANGUP_COMPLETE":
        text = event.get("Hangup-Cause") or event.get("variable_hangup_cause")
        raw = event.get("variable_hangup_cause_q850")
        cause = int(raw) if raw.isdigit() else Q850.get(text, 0)
        sip = event.get("variable_sip_term_status")
        return HungUp(at, cause, text, primary, int(sip) if sip.isdigit() else None)
    return None


def originate_result(result: str, at: float) -> OriginateResult:
    """``+OK <uuid>`` or ``-ERR <CAUSE>`` as Asterisk's OriginateResponse would have it."""
    if result.startswith("+OK"):
        return OriginateResult(at, True, _ANSWERED)
    cause = result.removeprefix("-ERR").strip()
    return OriginateResult(at, False, _REASONS.get(cause, 0))


def originate_command(request: OriginateRequest) -> str:
    """The ``originate`` API line for a request, every value checked: a space, comma, quote or
    brace in one would change the command."""
    variables: dict[str, str] = {
        "origination_uuid": _checked_uuid(request.call_id),
        "originate_timeout": str(max(1, round(request.ring_timeout))),
        "ignore_early_media": "true",
        **dict(request.variables),
    }
    number = name = ""
    if request.caller_id:
        shown = re.fullmatch(r'\s*(?:"?([^"<]*)"?\s*)?<?([+0-9]+)>?\s*', request.caller_id)
        if shown is None:
            raise EslActionError(f"refused originate: caller id {request.caller_id!r} is not a number")
        name, number = (shown.group(1) or "").strip(), shown.group(2)
        variables["origination_caller_id_number"] = number
        if name:
            variables["origination_caller_id_name"] = name.replace(" ", "_")
    for key, value in variables.items():
        if not _SAFE_NAME.fullmatch(key):
            raise EslActionError(f"refused originate: variable name {key!r}")
        _check_value(key, value)
    if not _SAFE_CHANNEL.fullmatch(request.channel):
        raise EslActionError(f"refused originate: channel {request.channel!r}")
    for what, value in (("context", request.context), ("exten", request.exten)):
        _check_value(what, value)
    joined = ",".join(f"{k}={v}" for k, v in variables.items())
    return f"originate {{{joined}}}{request.channel} {request.exten} XML {request.context}"


def _check_value(what: str, value: str) -> None:
    if not _SAFE_VALUE.fullmatch(value):
        raise EslActionError(f"refused FreeSWITCH command: {what} {value!r} holds characters it may not")


def _checked_uuid(value: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F-]{1,64}", value):
        raise EslActionError(f"refused FreeSWITCH command: {value!r} is not a channel uuid")
    return value


def variables_of(event: Event) -> Mapping[str, str]:
    """The channel variables an event carries (``variable_NAME`` headers), by name."""
    return {k.removeprefix("variable_"): v for k, v in event.headers.items() if k.startswith("variable_")}

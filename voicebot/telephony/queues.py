"""Agents' queues: agents in and out, and what the queues report of the calls they ring.

:class:`AgentQueues` is the seam the console's desk, the dialer's pacing and the inbound
router use; :class:`QueueMembers` carries it out on Asterisk's app_queue (AMI QueueAdd,
QueuePause, QueueRemove; AgentCalled, AgentConnect, AgentComplete...), and
:class:`voicebot.telephony.callcenter.CallCenterQueues` on FreeSWITCH's mod_callcenter.

Every value sent is checked first: an interface, a queue name and a pause reason are
what they claim to be, so nothing a console form carries can reach the PBX as anything else.
The event translation is pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from voicebot.errors import AmiActionError, ConsoleError
from voicebot.telephony.ami import AmiClient

QUEUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
INTERFACE = re.compile(r"^(PJSIP|SIP|IAX2|Local|DAHDI)/[A-Za-z0-9][A-Za-z0-9@._+/-]{0,127}$")
REASON = re.compile(r"^[\w .,:()/-]{0,64}$")


def check_queue(name: str) -> str:
    if not QUEUE.match(name):
        raise ConsoleError(f"bad queue name {name!r}", hint="letters, digits, '_' and '-', up to 64")
    return name


def check_interface(interface: str) -> str:
    if not INTERFACE.match(interface):
        raise ConsoleError(
            f"bad agent interface {interface!r}",
            hint="a channel the queue can ring, such as PJSIP/agent101 or Local/101@agents/n",
        )
    return interface


def check_reason(reason: str) -> str:
    if not REASON.match(reason):
        raise ConsoleError(f"bad pause reason {reason!r}", hint="up to 64 letters, digits and spaces")
    return reason


@dataclass(frozen=True, slots=True)
class QueueSummary:
    queue: str
    available: int  # agents logged in, unpaused, not on a call
    waiting: int  # callers waiting for an agent
    logged_in: int
    longest_wait: float  # seconds the longest-waiting caller has waited


class AgentQueues(Protocol):
    """Agents' membership of the PBX's queues, and the queues' news of the calls they ring."""

    @property
    def connected(self) -> bool: ...

    def check_interface(self, interface: str) -> str:
        """``interface`` if it is a phone this PBX's queues can ring; else ConsoleError."""
        ...

    async def join(
        self, queue: str, interface: str, name: str, *, paused: bool, reason: str = ""
    ) -> None: ...

    async def pause(self, queue: str, interface: str, *, paused: bool, reason: str = "") -> None: ...

    async def leave(self, queue: str, interface: str) -> None: ...

    async def summary(self, queue: str) -> QueueSummary: ...

    async def members(self, queue: str) -> dict[str, bool]: ...

    def on_event(self, listener: Callable[[QueueEvent], None]) -> None:
        """Call ``listener`` with each queue event (ringing, answered...) from now on."""
        ...

    def on_reconnect(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` whenever the link to the PBX is back (it may have forgotten agents)."""
        ...


class QueueMembers:
    """Agents' membership of Asterisk's queues, carried out over AMI (write class ``agent``)."""

    def __init__(self, ami: AmiClient) -> None:
        self._ami = ami

    @property
    def connected(self) -> bool:
        return self._ami.connected

    def check_interface(self, interface: str) -> str:
        return check_interface(interface)

    def on_event(self, listener: Callable[[QueueEvent], None]) -> None:
        def translated(message: Mapping[str, str]) -> None:
            event = queue_event(message)
            if event is not None:
                listener(event)

        self._ami.on_event(translated)

    def on_reconnect(self, callback: Callable[[], Any]) -> None:
        self._ami.on_reconnect(callback)

    async def join(self, queue: str, interface: str, name: str, *, paused: bool, reason: str = "") -> None:
        """Add the agent to the queue, or set their pause if they are in it already."""
        action = {
            "Action": "QueueAdd",
            "Queue": check_queue(queue),
            "Interface": check_interface(interface),
            "MemberName": check_reason(name),
            "Paused": "true" if paused else "false",
        }
        if paused and reason:
            action["Reason"] = check_reason(reason)
        try:
            # as_list=False: panoramisk takes "Added interface to queue" for the start of a list
            await self._ami.action(action, as_list=False)
        except AmiActionError as e:
            if "already there" not in e.message.lower():
                raise
            await self.pause(queue, interface, paused=paused, reason=reason)

    async def pause(self, queue: str, interface: str, *, paused: bool, reason: str = "") -> None:
        action = {
            "Action": "QueuePause",
            "Queue": check_queue(queue),
            "Interface": check_interface(interface),
            "Paused": "true" if paused else "false",
        }
        if reason:
            action["Reason"] = check_reason(reason)
        await self._ami.action(action, as_list=False)

    async def leave(self, queue: str, interface: str) -> None:
        action = {
            "Action": "QueueRemove",
            "Queue": check_queue(queue),
            "Interface": check_interface(interface),
        }
        try:
            await self._ami.action(action, as_list=False)
        except AmiActionError as e:
            if "not there" not in e.message.lower():
                raise

    async def summary(self, queue: str) -> QueueSummary:
        """The queue now, as Asterisk counts it (QueueSummary: Available is the members logged
        in, unpaused and not on a call)."""
        result = await self._ami.action({"Action": "QueueSummary", "Queue": check_queue(queue)}, as_list=True)
        for message in result if isinstance(result, list) else [result]:
            if message.get("Event") == "QueueSummary" and message.get("Queue") == queue:
                return QueueSummary(
                    queue,
                    available=int(message.get("Available") or 0),
                    waiting=int(message.get("Callers") or 0),
                    logged_in=int(message.get("LoggedIn") or 0),
                    longest_wait=float(message.get("LongestHoldTime") or 0),
                )
        raise ConsoleError(f"the PBX has no queue {queue!r}", hint="define it in queues.conf")

    async def members(self, queue: str) -> dict[str, bool]:
        """The queue's members as Asterisk has them: interface -> paused."""
        result = await self._ami.action({"Action": "QueueStatus", "Queue": check_queue(queue)}, as_list=True)
        members: dict[str, bool] = {}
        for message in result if isinstance(result, list) else [result]:
            if message.get("Event") == "QueueMember" and message.get("Queue") == queue:
                interface = str(message.get("StateInterface") or message.get("Location") or "")
                members[str(message.get("Location") or interface)] = message.get("Paused") == "1"
        return members


# -- what the queues report ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class QueueEvent:
    """A queue's news of one call and one agent: ``kind`` is ringing, answered, no_answer or
    completed (the call's own end with an agent), or abandoned (the callee left the queue). A
    completed call's id may be empty: the agent's call then is the one they are talking on."""

    kind: str
    call_id: str
    queue: str
    interface: str = ""
    wait_seconds: float | None = None
    ring_seconds: float | None = None
    talk_seconds: float | None = None


_KINDS = {
    "AgentCalled": "ringing",
    "AgentConnect": "answered",
    "AgentRingNoAnswer": "no_answer",
    "AgentComplete": "completed",
    "QueueCallerAbandon": "abandoned",
}


def queue_event(message: Mapping[str, str]) -> QueueEvent | None:
    call_id = str(message.get("Linkedid") or "")
    if message.get("Event") == "VarSet" and message.get("Variable") == "VOICEBOT_WHISPER":
        # the whisper's verdict, set on the agent's channel (voicebot-whisper): a decline
        if message.get("Value") != "decline" or not call_id:
            return None
        return QueueEvent("declined", call_id, "", interface_of(str(message.get("Channel", ""))))
    kind = _KINDS.get(str(message.get("Event", "")))
    if kind is None:
        return None
    # AgentComplete comes without the caller's channel fields when the caller's channel is gone
    # already (the callee hung up as the agent answered): the member's interface still says who
    if not call_id and not (kind == "completed" and message.get("Interface")):
        return None
    return QueueEvent(
        kind,
        call_id,
        str(message.get("Queue", "")),
        str(message.get("Interface", "")),
        wait_seconds=_seconds(message.get("HoldTime")),
        ring_seconds=_ring_seconds(kind, message.get("RingTime")),
        talk_seconds=_seconds(message.get("TalkTime")),
    )


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _ring_seconds(kind: str, value: str | None) -> float | None:
    """RingTime is in milliseconds on AgentRingNoAnswer, in seconds on AgentConnect."""
    seconds = _seconds(value)
    if seconds is None or kind != "no_answer":
        return seconds
    return seconds / 1000


def interface_of(channel: str) -> str:
    """The queue member interface a channel belongs to: ``PJSIP/agent101-0000002a`` is
    ``PJSIP/agent101``; a Local channel ``Local/101@agents-0000001d;1`` is ``Local/101@agents/n``
    (the form queue members are added in)."""
    base = channel.rsplit("-", 1)[0] if "-" in channel else channel
    return f"{base}/n" if channel.startswith("Local/") else base

"""FreeSWITCH's agents' queues: mod_callcenter over the event socket.

An agent is a mod_callcenter agent named by their phone's dial string (``user/1001@pbx``,
``loopback/phone-alice/voicebot-lab``): that string is their contact too, so the queue's events
name the phone the console knows them by. Ready is status ``Available``, paused ``On Break``
(mod_callcenter keeps no reason: the console does), offline ``Logged Out`` and out of the tier.

The queue's events (``CUSTOM callcenter::info``) become the same :class:`QueueEvent` as
Asterisk's: the callee's channel uuid (``CC-Member-Session-UUID``) is voicebot's call id.
``callcenter_config`` answers lists as ``|``-separated rows under a header row; both are
parsed here, pure.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from voicebot.errors import ConsoleError, EslActionError
from voicebot.telephony.esl.client import EslClient
from voicebot.telephony.esl.protocol import Event
from voicebot.telephony.queues import QueueEvent, QueueSummary, check_queue

#: What voicebot hears of mod_callcenter (the ESL user's esl-allowed-events must list it).
CALLCENTER_EVENTS = ("CUSTOM", "callcenter::info")
CONTACT = re.compile(r"^(user|loopback|sofia|verto\.rtc|freetdm)/[A-Za-z0-9][A-Za-z0-9@._+/-]{0,127}$")
READY, PAUSED, OFFLINE = "Available", "On Break", "Logged Out"


def check_contact(contact: str) -> str:
    if not CONTACT.match(contact):
        raise ConsoleError(
            f"bad agent phone {contact!r}",
            hint="a dial string FreeSWITCH can ring, such as user/1001@example.com or sofia/gateway/gw/1001",
        )
    return contact


class CallCenterQueues:
    """Agents' membership of mod_callcenter's queues (the ESL user needs ``callcenter_config``)."""

    def __init__(self, esl: EslClient, clock: Callable[[], float] = time.time) -> None:
        self._esl = esl
        self._clock = clock

    @property
    def connected(self) -> bool:
        return self._esl.connected

    def check_interface(self, interface: str) -> str:
        return check_contact(interface)

    async def join(self, queue: str, interface: str, name: str, *, paused: bool, reason: str = "") -> None:
        """Make the agent (if new), point it at the phone, set its status, put it in the queue's
        tier; each step is harmless when it was done before."""
        queue, agent = check_queue(queue), check_contact(interface)
        await self._config(f"agent add {agent} callback", exists="already exist")
        await self._config(f"agent set contact {agent} {agent}")
        await self._status(agent, PAUSED if paused else READY)
        await self._config(f"tier add {queue} {agent} 1 1", exists="already exist")

    async def pause(self, queue: str, interface: str, *, paused: bool, reason: str = "") -> None:
        check_queue(queue)
        await self._status(check_contact(interface), PAUSED if paused else READY)

    async def leave(self, queue: str, interface: str) -> None:
        queue, agent = check_queue(queue), check_contact(interface)
        await self._config(f"tier del {queue} {agent}")
        await self._status(agent, OFFLINE, missing_ok=True)

    async def summary(self, queue: str) -> QueueSummary:
        queue = check_queue(queue)
        if queue not in {row.get("name") for row in table(await self._config("queue list"))}:
            raise ConsoleError(
                f"the PBX has no queue {queue!r}", hint="define it in autoload_configs/callcenter.conf.xml"
            )
        agents = table(await self._config(f"queue list agents {queue}"))
        members = table(await self._config(f"queue list members {queue}"), tail=MEMBER_TAIL)
        return queue_summary(queue, agents, members, self._clock())

    async def members(self, queue: str) -> dict[str, bool]:
        agents = table(await self._config(f"queue list agents {check_queue(queue)}"))
        return {row["name"]: row.get("status") == PAUSED for row in agents if row.get("name")}

    def on_event(self, listener: Callable[[QueueEvent], None]) -> None:
        def translated(event: Event) -> None:
            news = callcenter_event(event.headers)
            if news is not None:
                listener(news)

        self._esl.on_event(translated)

    def on_reconnect(self, callback: Callable[[], Any]) -> None:
        self._esl.on_reconnect(callback)

    async def _status(self, agent: str, status: str, *, missing_ok: bool = False) -> None:
        await self._config(f"agent set status {agent} '{status}'", exists="not found" if missing_ok else None)

    async def _config(self, args: str, *, exists: str | None = None) -> str:
        """``callcenter_config ARGS``; an -ERR that says ``exists`` is taken as done."""
        body = await self._esl.api(f"callcenter_config {args}", check=False)
        if body.startswith("-ERR") or body.startswith("-USAGE"):
            if exists is not None and exists in body.lower():
                return ""
            raise EslActionError(f"FreeSWITCH callcenter_config {args.split(' ', 2)[:2]}: {body.strip()}")
        return body


# -- pure: lists and events ------------------------------------------------------------
#: ``queue list members`` rows: the callee's caller id (number, name: free text that may hold
#: a "|") sits between these leading columns and the rest, so the rest is read from the end.
MEMBER_TAIL = 10


def table(body: str, *, tail: int = 0) -> list[dict[str, str]]:
    """``callcenter_config ... list`` output as rows of column -> value (the ``+OK`` line and
    blank lines dropped). With ``tail``, a row with more cells than the header keeps its first
    cells and its last ``tail`` cells in their columns."""
    lines = [line for line in body.splitlines() if line.strip() and line.strip() != "+OK"]
    if not lines:
        return []
    header = lines[0].split("|")
    rows = []
    for line in lines[1:]:
        cells = line.split("|")
        if tail and len(cells) > len(header):
            head = len(header) - tail
            cells = [*cells[:head], *cells[-tail:]]
        rows.append(dict(zip(header, cells, strict=False)))
    return rows


def queue_summary(
    queue: str, agents: list[dict[str, str]], members: list[dict[str, str]], now: float
) -> QueueSummary:
    """The queue as Asterisk's QueueSummary counts it: available agents are logged in, not on a
    break and waiting for a call; waiting callers are members no agent has answered yet."""
    logged_in = [a for a in agents if a.get("status") not in (OFFLINE, "")]
    available = [
        a for a in logged_in if a.get("status", "").startswith(READY) and a.get("state") == "Waiting"
    ]
    waiting = [m for m in members if m.get("state") in ("Waiting", "Trying")]
    joined = [_number(m.get("joined_epoch")) for m in waiting]
    longest = max((now - j for j in joined if j), default=0.0)
    return QueueSummary(
        queue,
        available=len(available),
        waiting=len(waiting),
        logged_in=len(logged_in),
        longest_wait=max(0.0, longest),
    )


_ACTIONS = {
    "agent-offering": "ringing",
    "bridge-agent-start": "answered",
    "bridge-agent-fail": "no_answer",
    "bridge-agent-end": "completed",
}


#: A ring cut short by the callee's side, not the agent's: the callee left the queue (voicebot
#: took them back, they hung up), or ring-all let another agent take the call.
_CALLER_LEFT = frozenset({"ORIGINATOR_CANCEL", "LOSE_RACE"})


def callcenter_event(headers: Mapping[str, str]) -> QueueEvent | None:
    """A ``callcenter::info`` event as a queue event, or None when it is none of ours."""
    if headers.get("Event-Subclass") != "callcenter::info":
        return None
    action = headers.get("CC-Action", "")
    call_id = headers.get("CC-Member-Session-UUID", "")
    queue = headers.get("CC-Queue", "")
    if not call_id:
        return None
    if action == "member-queue-end":
        # the callee left the queue: answered and over (Terminated), or let go unanswered
        if headers.get("CC-Cause") != "Cancel":
            return None
        joined, left = (
            _number(headers.get("CC-Member-Joined-Time")),
            _number(headers.get("CC-Member-Leaving-Time")),
        )
        return QueueEvent("abandoned", call_id, queue, wait_seconds=_span(joined, left))
    kind = _ACTIONS.get(action)
    if kind is None:
        return None
    if kind == "no_answer" and headers.get("CC-Hangup-Cause") in _CALLER_LEFT:
        # the callee left the queue (or another agent took the call) while this phone rang:
        # the agent let nothing ring out
        return QueueEvent("abandoned", call_id, queue, headers.get("CC-Agent", ""))
    joined = _number(headers.get("CC-Member-Joined-Time"))
    called = _number(headers.get("CC-Agent-Called-Time"))
    answered = _number(headers.get("CC-Agent-Answered-Time"))
    wait = ring = talk = None
    if kind == "ringing":
        wait = _span(joined, _event_seconds(headers))
    elif kind == "answered":
        wait, ring = _span(joined, answered), _span(called, answered)
    elif kind == "no_answer":
        ring = _span(called, _number(headers.get("CC-Agent-Aborted-Time")))
    else:
        talk = _span(answered, _number(headers.get("CC-Bridge-Terminated-Time")))
    return QueueEvent(
        kind,
        call_id,
        queue,
        headers.get("CC-Agent", ""),
        wait_seconds=wait,
        ring_seconds=ring,
        talk_seconds=talk,
    )


def _number(value: str | None) -> float:
    try:
        return float(value) if value else 0.0
    except ValueError:
        return 0.0


def _span(start: float, end: float) -> float | None:
    """Seconds from ``start`` to ``end`` (epoch seconds; 0 is not known)."""
    return max(0.0, end - start) if start and end else None


def _event_seconds(headers: Mapping[str, str]) -> float:
    """The event's own time (``Event-Date-Timestamp`` is in microseconds)."""
    return _number(headers.get("Event-Date-Timestamp")) / 1_000_000

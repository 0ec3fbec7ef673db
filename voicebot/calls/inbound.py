"""Callees who call back the number the robot showed (a part of
:class:`voicebot.calls.service.CallService`).

The admin routes the displayed numbers to the ``voicebot-inbound`` context, whose FastAGI
``AGI(agi://VOICEBOT/inbound,LINKEDID,CALLERID,EXTEN)`` asks voicebot where the call goes. The
router (the campaigns' side: :class:`voicebot.campaign.inbound.InboundRouter`) finds the lead by
the caller's number and decides: the agents' queue when agents are on duty and logged in, else
the bot (the script's ``inbound`` node, or its ``no_agent`` apology and callback offer). On
FreeSWITCH ``voicebot-inbound`` hands the call to voicebot's call socket
(``VOICEBOT_ROUTE=inbound``) and the call's id is its channel's uuid. On Asterisk the call's
id is its linkedid (every queue event names the call by it, so the agent's
screen pops it as it pops a transfer); it gets a record (direction ``inbound``) and is followed
to its end like a call voicebot placed. Whisper, decline and back-to-the-bot work as for a
transfer.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from voicebot.calls.legs import BotLeg
from voicebot.calls.live import Live, is_call_id, quietly
from voicebot.errors import AgiError, TelephonyError, VoicebotError
from voicebot.store import CallRecord
from voicebot.telephony.agi import AgiCall
from voicebot.telephony.pbx import CallHandle, Pbx

if TYPE_CHECKING:
    from voicebot.telephony.callstate import CallEvent

log = logging.getLogger(__name__)

#: What the route sets for the dialplan: where the call goes.
TO_AGENTS, TO_BOT = "agents", "bot"
#: What a value set on the channel may hold (ids, numbers, queue names): no quote, no space.
_VALUE = re.compile(r"[\w.+:@-]{0,128}")
#: A caller id that is no number a lead could have (withheld, "anonymous", a SIP URI).
MAX_CALLER_ID = 32


@dataclass(frozen=True, slots=True)
class InboundRoute:
    """Where an inbound call goes, and what voicebot knows of its caller."""

    to_agents: bool
    why: str  # "agents on duty", "outside the agents' hours", "no agent logged in"...
    phone: str | None = None  # the caller's number in E.164 (None: withheld or not a number)
    lead_id: int | None = None
    campaign_id: str | None = None
    queue: str = "voicebot-agents"
    agent_wait: float = 30.0


#: (call id, caller id as the PBX gave it, the number dialed) -> the route
Router = Callable[[str, str, str], Awaitable[InboundRoute]]
#: (call id, its completed record): the campaigns' side moves the lead on (a callback the bot took)
InboundEnded = Callable[[str, CallRecord], Awaitable[None]]


class Inbound:
    """The ``inbound`` FastAGI route over the call service's live calls."""

    _live: dict[str, Live]
    _adopted: set[asyncio.Task[None]]
    _pbx: Pbx
    _router: Router | None
    _on_inbound_end: InboundEnded | None

    if TYPE_CHECKING:

        def _event(self, call_id: str, kind: str, data: dict[str, Any]) -> None: ...

        async def _create(self, live: Live, record: CallRecord) -> None: ...

        def _on_progress(self, handle: CallHandle, event: CallEvent) -> None: ...

        async def _follow_to_end(self, live: Live) -> CallRecord: ...

        async def on_bot(self, leg: BotLeg) -> None: ...

        def _wait_for_agent(self, live: Live) -> None: ...

    async def on_inbound(self, call: AgiCall) -> None:
        """Asterisk: the ``inbound`` FastAGI route; the dialplan goes on to the queue or the bot
        as ``VOICEBOT_INBOUND`` says."""
        call_id, caller, dialed = call.args[0], call.args[1], call.args[2]
        admitted = await self._admit_inbound(call_id, caller, dialed, call.channel, call.uniqueid)
        if admitted is None:
            await quietly(call.command("HANGUP"))
            return
        live, route = admitted
        try:
            for name, value in inbound_variables(call_id, route):
                await call.command(f"SET VARIABLE {name} {agi_value(value)}")
        except AgiError as e:
            log.error("inbound call %s: %s", call_id, e.message, extra={"call_id": call_id})
            return
        if route.to_agents:  # the callee waits for an agent from now: whisper, decline, back work
            live.transferred_at = asyncio.get_running_loop().time()

    async def on_inbound_leg(self, leg: BotLeg, dialed: str) -> None:
        """FreeSWITCH: voicebot-inbound handed the call to the call socket; voicebot routes it
        and, for the bot, takes it on this same connection (the agents: the dialplan queues it
        when the socket lets go, and voicebot keeps the agents' wait)."""
        admitted = await self._admit_inbound(leg.call_id, leg.caller_id, dialed, leg.channel, leg.uniqueid)
        if admitted is None:
            await leg.refuse()
            return
        live, route = admitted
        try:
            for name, value in inbound_variables(leg.call_id, route):
                await leg.set_variable(name, channel_value(value))
        except TelephonyError as e:
            log.error("inbound call %s: %s", leg.call_id, e.message, extra={"call_id": leg.call_id})
            return
        if not route.to_agents:
            await self.on_bot(leg)
            return
        live.transferred_at = asyncio.get_running_loop().time()
        await leg.set_transfer(TO_AGENTS)
        self._wait_for_agent(live)

    async def _admit_inbound(
        self, call_id: str, caller: str, dialed: str, channel: str, uniqueid: str
    ) -> tuple[Live, InboundRoute] | None:
        """Route a call in, give it a record and follow it to its end; None when it is not this
        worker's to take (inbound calls off, a forged id, a second request for a call we follow)."""
        caller, dialed = caller[:MAX_CALLER_ID], dialed[:64]
        if self._router is None or not is_call_id(call_id) or call_id in self._live:
            log.warning("inbound call %r refused (not routed by this worker)", call_id)
            return None
        try:
            route = await self._router(call_id, caller, dialed)
        except VoicebotError as e:  # the caller is answered anyway: by the bot, with no lead known
            log.error("inbound call from %s: no route (%s); the bot answers", caller, e.message)
            route = InboundRoute(to_agents=False, why=f"routing failed: {e.message}")
        live = self._live[call_id] = Live(call_id, inbound=True, agent_wait=route.agent_wait)
        live.recording = f"voicebot/{call_id}.wav"  # the dialplan records it either way
        await self._create(
            live,
            CallRecord(
                id=call_id,
                direction="inbound",
                destination=route.phone or caller or "anonymous",
                channel=channel,
                lead_id=str(route.lead_id) if route.lead_id is not None else None,
                campaign_id=route.campaign_id,
                # taken by an agent unless the bot's session says otherwise (back, or the bot's call)
                outcome="transferred" if route.to_agents else None,
                recording=live.recording,
            ),
        )
        to = route.queue if route.to_agents else TO_BOT
        data = {"caller": caller, "dialed": dialed, "lead": route.lead_id, "to": to, "why": route.why}
        self._event(call_id, "inbound", data)
        live.handle = self._pbx.follow(call_id, uniqueid, channel, on_change=self._on_progress)
        task = asyncio.create_task(self._inbound_to_end(live), name=f"inbound-{call_id}")
        self._adopted.add(task)
        task.add_done_callback(self._adopted.discard)
        return live, route

    async def _inbound_to_end(self, live: Live) -> None:
        record = await self._follow_to_end(live)
        if self._on_inbound_end is not None:
            try:
                await self._on_inbound_end(live.call_id, record)
            except VoicebotError as e:
                log.error("inbound call's lead not moved on: %s", e.message, extra={"call_id": live.call_id})


def inbound_variables(call_id: str, route: InboundRoute) -> list[tuple[str, str]]:
    """What voicebot sets on an inbound call's channel for the dialplan."""
    return [
        ("VOICEBOT_CALL_ID", call_id),
        ("VOICEBOT_LEAD", str(route.lead_id or "")),
        ("VOICEBOT_CAMPAIGN", route.campaign_id or ""),
        ("VOICEBOT_QUEUE", route.queue),
        ("VOICEBOT_QUEUE_WAIT", str(round(route.agent_wait))),
        ("VOICEBOT_INBOUND", TO_AGENTS if route.to_agents else TO_BOT),
    ]


def channel_value(value: str) -> str:
    """``value`` if it may be set on a channel; AgiError for one that could end the command or
    start another."""
    if _VALUE.fullmatch(value) is None:
        raise AgiError(f"refused to set a channel variable to {value!r}")
    return value


def agi_value(value: str) -> str:
    """A value for AGI SET VARIABLE (an empty one quoted)."""
    return channel_value(value) or '""'

"""The App's side of the calls people take: what the bot says when no agent took a transfer,
what the agent hears before the bridge, and callees calling back the robot's number (a part of
:class:`voicebot.app.App`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from voicebot.calls.behaviour import Apology
from voicebot.calls.context import CallContext
from voicebot.calls.inbound import InboundRoute
from voicebot.calls.scripted import LoadedScript, ScriptedCall
from voicebot.calls.session import Behaviour
from voicebot.calls.whisper import NO_AGENT, NO_AGENT_EN, NO_AGENT_ZH, whisper_text
from voicebot.campaign.inbound import Caller, InboundRouter, after_inbound
from voicebot.config import Settings
from voicebot.dialog.flow import INBOUND
from voicebot.errors import VoicebotError
from voicebot.speech.prompts import Prompt, PromptCache
from voicebot.speech.tts import Synthesizer
from voicebot.store import CallRecord, Store
from voicebot.store.outbox import Outbox
from voicebot.telephony.agi import AgiServer
from voicebot.telephony.ami import AmiClient

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

log = logging.getLogger(__name__)

#: The PBX global the voicebot-inbound context reads for voicebot's FastAGI address.
AGI_GLOBAL = "VOICEBOT_AGI"


class _Deferred:
    """The built-in apology, its audio rendered when the call needs it."""

    def __init__(self, render: Callable[[], Awaitable[bytes]], text: str) -> None:
        self._render, self._text = render, text

    async def run(self, call: CallContext) -> None:
        await Apology(await self._render(), self._text).run(call)


class PeopleSide:
    settings: Settings
    store: Store
    outbox: Outbox
    ami: AmiClient
    prompts: PromptCache
    synthesizer: Synthesizer
    script: LoadedScript | None
    clock: Callable[[], datetime]
    _lead_calls: dict[str, tuple[LoadedScript | None, dict[str, str]]]
    #: Inbound calls from known leads, by call id, until they end.
    _callers: dict[str, Caller]
    inbound_router: InboundRouter | None
    agi: AgiServer | None

    if TYPE_CHECKING:

        async def script_for(self, directory: Path) -> LoadedScript: ...

        def _script_of(self, call_id: str) -> tuple[LoadedScript | None, dict[str, str]]: ...

    # -- no agent took the transfer ----------------------------------------------------
    def _no_agent(self, call_id: str) -> Behaviour:
        """The bot takes back a callee no agent took in time: the script's no_agent node."""
        return self._entry(call_id, NO_AGENT)

    def _entry(self, call_id: str, node: str) -> Behaviour:
        script, variables = self._script_of(call_id)
        if script is not None and node in script.flow.nodes:
            return ScriptedCall(script, self.prompts, call_id, variables, start=node)
        if script is not None and NO_AGENT in script.flow.nodes:
            return ScriptedCall(script, self.prompts, call_id, variables, start=NO_AGENT)
        zh = script is not None and script.flow.language.startswith("zh")
        text = NO_AGENT_ZH if zh else NO_AGENT_EN
        voice = script.voice if script is not None else self.settings.speech.voice
        return _Deferred(lambda: self.prompts.audio(Prompt(NO_AGENT, text, voice=voice)), text)

    # -- the whisper -------------------------------------------------------------------
    async def _whisper(self, call_id: str) -> bytes | None:
        """What the agent hears before the callee is bridged: who, the grade, their last words."""
        record = await self.store.get_call(call_id)
        if record is None:
            return None
        script, variables = self._script_of(call_id)
        lead = None
        if record.lead_id and record.lead_id.isdigit():
            lead = await self.store.run(self.store.campaigns.lead, int(record.lead_id))
        said = [t["text"] for t in record.transcript or [] if t.get("speaker") == "callee" and t.get("text")]
        zh = script is not None and script.flow.language.startswith("zh")
        text = whisper_text(
            name=(lead.name if lead else "") or variables.get("name", ""),
            grade=record.grade or (lead.grade if lead else None),
            said=said[-1] if said else "",
            chinese=zh,
            inbound=record.direction == "inbound",
        )
        voice = script.voice if script is not None else self.settings.speech.voice
        # brisk: the callee hears the queue's music while the agent listens
        return await self.synthesizer.render(text, voice, max(self.settings.speech.rate, 190))

    # -- callees calling back ----------------------------------------------------------
    async def _announce_agi(self) -> None:
        """Tell the PBX where inbound calls find this worker's FastAGI (a global variable the
        voicebot-inbound context reads): at start and after every AMI reconnect."""
        address = self.settings.agi.address(self.agi.port if self.agi is not None else None)
        try:
            await self.ami.action({"Action": "Setvar", "Variable": AGI_GLOBAL, "Value": address})
        except VoicebotError as e:
            log.error(
                "inbound calls cannot find voicebot: %s %s not set on the PBX (%s)", AGI_GLOBAL, address, e
            )

    async def _route_inbound(self, call_id: str, caller_id: str, dialed: str) -> InboundRoute:
        """Where a callee calling back goes; a known lead's call gets its campaign's script."""
        assert self.inbound_router is not None
        caller = await self.inbound_router.route(caller_id)
        if caller.lead is not None:
            campaign = caller.campaign
            script = await self.script_for(campaign.script) if campaign and campaign.script else self.script
            fields = {str(k): str(v) for k, v in caller.lead.fields.items()}
            self._lead_calls[call_id] = (script, {**fields, "name": caller.lead.name})
            self._callers[call_id] = caller
        log.info(
            "inbound call from %s (lead %s): %s",
            caller.route.phone or "a withheld number",
            caller.route.lead_id,
            caller.route.why,
            extra={"call_id": call_id},
        )
        return caller.route

    def _inbound_behaviour(self, call_id: str) -> Behaviour:
        """The bot answers a callee calling back: the script's inbound node, else no_agent."""
        return self._entry(call_id, INBOUND)

    async def _inbound_ended(self, call_id: str, record: CallRecord) -> None:
        """A lead's inbound call ended: audited on the lead, and a callback it asked the bot for
        scheduled inside the campaign's window (through the outbox: never lost)."""
        self._lead_calls.pop(call_id, None)
        caller = self._callers.pop(call_id, None)
        if caller is None or caller.lead is None:
            return
        nxt = None
        if caller.campaign is not None:
            zone = caller.lead.timezone or caller.campaign.timezone
            nxt = after_inbound(caller.campaign, zone, record, self.clock())
        await self.outbox.write(
            "called_back",
            lead_id=caller.lead.id,
            call_id=call_id,
            nxt=nxt,
            actor=self.settings.dialer.worker,
            detail={"disposition": record.disposition, "outcome": record.outcome, "why": caller.route.why},
        )

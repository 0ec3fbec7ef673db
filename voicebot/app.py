"""The one place that builds voicebot from settings and wires the parts together."""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from voicebot.app_pbx import PbxSide
from voicebot.app_people import PeopleSide
from voicebot.calls.behaviour import GreetAndListen
from voicebot.calls.destination import resolve
from voicebot.calls.ears import Ears
from voicebot.calls.scripted import LoadedScript, ScriptedCall
from voicebot.calls.service import CallOutcome, CallService
from voicebot.calls.session import Behaviour
from voicebot.campaign.definition import Campaign
from voicebot.campaign.dialer import Dialer
from voicebot.campaign.humans import HumanSide
from voicebot.campaign.inbound import Caller, InboundRouter
from voicebot.campaign.leads import zone_of
from voicebot.campaign.rules import CallingWindow, Decision, Skip
from voicebot.campaign.wayout import lead_target
from voicebot.config import Settings
from voicebot.errors import ConfigError, DialRefused
from voicebot.media.stream import MediaStream
from voicebot.qa.inspect import CallView, inspect
from voicebot.speech import models
from voicebot.speech.asr import SpeechRecognizer
from voicebot.speech.capacity import capacity
from voicebot.speech.decoding import cores
from voicebot.speech.prompts import Prompt, PromptCache
from voicebot.speech.tts import Synthesizer
from voicebot.speech.turns import TurnConfig
from voicebot.speech.vad import SileroModel, Vad, VoiceActivity
from voicebot.speech.vosk import VoskRecognizer
from voicebot.store import CallRecord, Store
from voicebot.store.campaigns import Claim
from voicebot.store.outbox import Outbox
from voicebot.telephony.agi import AgiServer
from voicebot.telephony.audiosocket.server import AudioSocketServer
from voicebot.telephony.callcenter import CallCenterQueues
from voicebot.telephony.cdr import CdrReader
from voicebot.telephony.esl.callsocket import CallSocketServer
from voicebot.telephony.esl.client import EslClient
from voicebot.telephony.freeswitch import FreeSwitchPbx
from voicebot.telephony.links import ami_client, esl_client
from voicebot.telephony.pbx import AsteriskPbx
from voicebot.telephony.queues import AgentQueues, QueueMembers
from voicebot.telephony.unicast import UnicastServer

if TYPE_CHECKING:
    from voicebot.console.server import ConsoleServer

log = logging.getLogger(__name__)


def refusal(number: str, zone: str, decision: Decision, *, overridable: bool) -> DialRefused:
    """Why the dial rules refuse ``number`` now, when they would allow it (the callee's time),
    and what the operator can do."""
    at = decision.retry_at.astimezone(ZoneInfo(zone)) if decision.retry_at else None
    when = f"; allowed again {at:%Y-%m-%d %H:%M} {zone} time" if at else ""
    if decision.reason is Skip.DO_NOT_CALL:
        hint = f"the number is on a do-not-call list: see `voicebot dnc check {number}`"
    elif overridable:
        hint = "call later, or override with a reason: voicebot call NUMBER --override 'REASON' (audited)"
    else:
        hint = None
    return DialRefused(f"{number}: {decision.reason}{when}", retry_at=decision.retry_at, hint=hint)


def load_recognizer(settings: Settings) -> SpeechRecognizer | None:
    """The process's one speech model, as the settings ask (None: turn timing only)."""
    sp = settings.speech
    if sp.engine == "none":
        return None
    if sp.model is None:
        raise ConfigError(
            f"[speech] engine = {sp.engine!r} needs [speech] model",
            hint="run `voicebot models` to see what is installed",
        )
    info = models.resolve(sp.model, settings.models_dir)
    if info.engine != sp.engine:
        raise ConfigError(
            f"model {info.name!r} is a {info.engine} model, but [speech] engine is {sp.engine!r}",
            hint=f"set [speech] engine = {info.engine!r} or choose another model",
        )
    threads = sp.decode_threads or cores()
    if info.engine == "vosk":
        return VoskRecognizer(info.path, threads=threads)
    from voicebot.speech.whisper import WhisperRecognizer

    return WhisperRecognizer(info.path, threads=threads, language=sp.language)


class App(PeopleSide, PbxSide):
    """AMI + FastAGI + AudioSocket + the store, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        behaviour: Callable[[str], Behaviour] | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        #: "Now" for the dialer and the campaign records (tests inject one to check retry times).
        self.clock = clock or (lambda: datetime.now(UTC))
        self.store = Store(settings.db_url, clock=self.clock)
        #: Writes of calls in progress: they wait here (on disk) while the database is away.
        self.outbox = Outbox(self.store, settings.data_dir / "outbox")
        self.synthesizer = Synthesizer()
        self.prompts = PromptCache(self.synthesizer, settings.prompts_dir)
        c = settings.call
        self.greeting_prompt = Prompt(
            "greeting",
            c.greeting_text or "",
            voice=settings.speech.voice,
            rate=settings.speech.rate,
            recording=None if c.greeting_text else c.greeting,
            barge_in=c.greeting_barge_in,
        )
        self.greeting = b""
        self.script = (
            LoadedScript.load(c.script, settings.speech.voice, rasa_url=c.rasa_url) if c.script else None
        )
        self._behaviour = behaviour or self._default_behaviour
        self.ami = ami_client(settings.ami)
        #: FreeSWITCH's event socket, when [pbx] kind = "freeswitch" (AMI is then not used).
        self.esl: EslClient | None = None
        self.pbx: AsteriskPbx | FreeSwitchPbx
        if settings.pbx.kind == "freeswitch":
            self.esl = esl_client(settings.esl)
            self.pbx = FreeSwitchPbx(self.esl)
        else:
            self.pbx = AsteriskPbx(self.ami)
        #: The agents' queues (app_queue over AMI, or mod_callcenter over the event socket).
        self.queues: AgentQueues = (
            CallCenterQueues(self.esl) if self.esl is not None else QueueMembers(self.ami)
        )
        sp = settings.speech
        #: The Silero network every call's detector shares (speech.vad = "silero").
        vad = sp.vad if sp.vad != "auto" else "silero" if SileroModel.bundled() else "webrtc"
        self._silero = SileroModel() if vad == "silero" else None
        self.turn_config = TurnConfig(
            trailing_silence=sp.trailing_silence,
            max_utterance=sp.max_utterance,
            no_input=settings.call.listen_seconds,
            min_speech=sp.min_speech,
            pre_roll=sp.pre_roll,
            speculate_after=sp.speculate_after,
        )
        self.recognizer = load_recognizer(settings)
        self._scripts: dict[Path, LoadedScript] = {}
        self._lead_calls: dict[str, tuple[LoadedScript | None, dict[str, str]]] = {}
        self._callers: dict[str, Caller] = {}
        i = settings.inbound
        #: Where callees calling back go (None: [inbound] enabled = false).
        self.inbound_router = (
            InboundRouter(
                self.store,
                self.queues.summary,
                agent_hours=CallingWindow(days=i.agent_hours.days, ranges=i.agent_hours.windows()),
                timezone=i.timezone,
                region=settings.dial.default_region,
                queue=settings.call.queue,
                agent_wait=settings.call.agent_wait,
                clock=self.clock,
            )
            if i.enabled
            else None
        )
        self.agi: AgiServer | None = None
        self.audiosocket: AudioSocketServer | None = None
        self.callsocket: CallSocketServer | None = None
        self.unicast: UnicastServer | None = None
        self.calls: CallService | None = None
        #: The web console, when [console] enabled (agents, supervisors).
        self.console: ConsoleServer | None = None

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise
        # What startup built (models, scripts, prompts, libraries: ~190k objects) lives as long as
        # the worker: out of the collector's sight, a full collection during calls scans only
        # what calls made. Before, one took 55-120 ms and every call's audio paused with it
        # (bench/trunk.py: RTP gaps over 40 ms in most of 60 calls).
        gc.freeze()

    async def _start(self) -> None:
        await asyncio.to_thread(self.store.migrate)
        await self.outbox.start()
        # render (or load) prompts now: no call waits for synthesis, a bad recording stops startup
        await self.prompts.prepare([self.greeting_prompt, *(self.script.prompts() if self.script else [])])
        self.greeting = await self.prompts.audio(self.greeting_prompt)
        settings = self.settings
        cdr = settings.cdr
        #: Asterisk's call detail records, when it writes them where voicebot can read.
        self.cdr = CdrReader(cdr.url, cdr.table) if cdr.url else None
        self.calls = CallService(
            self.store,
            self.outbox,
            self.pbx,
            self._behaviour,
            self.ears,
            context=settings.dial.context,
            exten=settings.dial.exten,
            bot_variables=self._bot_variables,
            audiosocket_address=lambda: settings.audiosocket.address(
                self.audiosocket.port if self.audiosocket else None
            ),
            ring_timeout=settings.dial.ring_timeout,
            caller_id=settings.dial.caller_id,
            max_call_seconds=settings.call.max_call_seconds,
            pbx_log=settings.pbx_log,
            hangup_grace=settings.call.hangup_grace,
            on_opt_out=self._opted_out,
            cdr=self.cdr,
            adopt_external=settings.call.adopt_external,
            queue=settings.call.queue,
            agent_wait=settings.call.agent_wait,
            whisperer=self._whisper,
            no_agent=self._no_agent,
            take_back=self._take_back if self.esl is not None else None,
            router=self._route_inbound if self.inbound_router is not None else None,
            inbound=self._inbound_behaviour,
            on_inbound_end=self._inbound_ended,
            inspector=self._inspect,
        )
        if self.esl is not None:
            await self._start_freeswitch()
        else:
            await self._start_asterisk()
        if self.inbound_router is not None and self.esl is not None:
            await self._announce_socket()
            self.esl.on_reconnect(self._announce_socket)
        elif self.inbound_router is not None:
            await self._announce_agi()
            self.ami.on_reconnect(self._announce_agi)
        if settings.console.enabled:
            from voicebot.console.server import ConsoleServer

            self.console = ConsoleServer(self.store, self.queues, self.pbx, settings)
            await self.console.start()

    def _default_behaviour(self, call_id: str) -> Behaviour:
        if call_id in self._lead_calls:  # a campaign's call: its script, the lead's fields
            script, variables = self._lead_calls[call_id]
            if script is not None:
                return ScriptedCall(script, self.prompts, call_id, variables)
        elif self.script is not None:
            return ScriptedCall(self.script, self.prompts, call_id)
        return GreetAndListen(
            self.greeting, barge_in=self.greeting_prompt.barge_in, text=self.greeting_prompt.text
        )

    def _script_of(self, call_id: str) -> tuple[LoadedScript | None, dict[str, str]]:
        if call_id in self._lead_calls:
            return self._lead_calls[call_id]
        return self.script, {}

    async def _inspect(self, record: CallRecord, bot_waited: bool) -> None:
        """Score a call the bot talked on by its script's rubric when it ends (through the
        outbox: a database that is away gets it later); a failed call is flagged for inspectors."""
        script, _ = self._script_of(record.id)
        if script is None or script.rubric is None or not record.transcript:
            return
        view = CallView.of(record, variables={"company": script.flow.company}, bot_waited=bot_waited)
        result = inspect(script.rubric, view)
        await self.outbox.write(
            "qa_result",
            call_id=record.id,
            campaign_id=record.campaign_id,
            scored_at=self.clock(),
            **result.stored(),
        )
        if not result.passed:
            why = ", ".join(result.failed_rules)
            log.warning(
                "call failed inspection (%g/%g): %s",
                result.score,
                result.total,
                why,
                extra={"call_id": record.id},
            )

    def ears(self, stream: MediaStream) -> Ears:
        """A call's ears: its own VAD and recognizer stream over the shared model."""
        recognizer = self.recognizer.stream() if self.recognizer is not None else None
        return Ears(self._vad(), recognizer, self.turn_config, stream.now)

    def _vad(self) -> Vad:
        if self._silero is not None:
            return self._silero.detector()
        return VoiceActivity(self.settings.speech.vad_aggressiveness)

    async def stop(self) -> None:
        """Stop taking calls, end the sessions, then close AMI and the store."""
        if self.console is not None:
            await self.console.close()
        if self.agi is not None:
            await self.agi.close()
        if self.audiosocket is not None:
            await self.audiosocket.close()
        if self.callsocket is not None:
            await self.callsocket.close()
        if self.unicast is not None:
            await self.unicast.close()
        if self.calls is not None:
            await self.calls.close()
        await self.ami.close()
        if self.esl is not None:
            await self.esl.close()
        await self.outbox.close()
        if self.recognizer is not None:
            await asyncio.to_thread(self.recognizer.close)
        await asyncio.to_thread(self.synthesizer.close)
        if self.cdr is not None:
            await asyncio.to_thread(self.cdr.close)
        await asyncio.to_thread(self.store.close)

    async def __aenter__(self) -> App:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def call(
        self,
        destination: str,
        *,
        lead_id: str | None = None,
        campaign_id: str | None = None,
        actor: str = "voicebot",
        override: str | None = None,
    ) -> CallOutcome:
        """Place one call to a number or channel and wait for its completed record.

        A phone number is dialed only if the dial rules allow it now (the global do-not-call
        list, consent, the calling hours in the callee's zone, the caps: a campaign's default
        rules, counting every call already placed to it), or with the operator's ``override``
        reason for the hours, caps or consent; either way it is audited under ``actor``.
        A channel (``PJSIP/100``, ``Local/...``) is no phone number: no rule applies to it.
        """
        assert self.calls is not None, "App.start() first"
        d = self.settings.dial
        target = resolve(
            destination, template=d.channel_template, number_format=d.number_format, region=d.default_region
        )
        call_id = str(uuid.uuid4())
        if target.number is not None:
            rules = Campaign(id="ad-hoc", region=d.default_region)
            zone = zone_of(target.number) or rules.timezone
            go, decision = await self.store.run(
                self.store.campaigns.dial_adhoc,
                target.number,
                zone,
                rules.policy(),
                call_id=call_id,
                actor=actor,
                override=override,
                now=self.clock(),
            )
            if not go:
                raise refusal(target.number, zone, decision, overridable=override is None)
        return await self.calls.place(target, lead_id=lead_id, campaign_id=campaign_id, call_id=call_id)

    # -- campaigns ----------------------------------------------------------------------
    async def script_for(self, directory: Path) -> LoadedScript:
        """A campaign's script, loaded and its prompts rendered once per process."""
        key = directory  # campaign files resolve it
        if key not in self._scripts:
            loaded = await asyncio.to_thread(
                LoadedScript.load, key, self.settings.speech.voice, rasa_url=self.settings.call.rasa_url
            )
            await self.prompts.prepare(loaded.prompts())
            self._scripts[key] = loaded
        return self._scripts[key]

    async def place_lead(self, campaign: Campaign, claim: Claim) -> CallRecord:
        """The dialer's call to one lead: the campaign's script, the lead's fields for its prompts."""
        assert self.calls is not None, "App.start() first"
        lead = claim.lead
        script = await self.script_for(campaign.script) if campaign.script else self.script
        target, caller_id = lead_target(self.settings, campaign, lead.phone)
        fields = {str(k): str(v) for k, v in lead.fields.items()}
        self._lead_calls[claim.call_id] = (script, {**fields, "name": lead.name})
        try:
            outcome = await self.calls.place(
                target,
                shown_as=lead.phone,
                call_id=claim.call_id,
                lead_id=str(lead.id),
                campaign_id=campaign.id,
                caller_id=caller_id,
                variables={
                    "VOICEBOT_AMD": campaign.amd,
                    "VOICEBOT_MACHINE_MESSAGE": campaign.machine_message or "",
                    "VOICEBOT_QUEUE": campaign.queue or self.settings.call.queue,
                    "VOICEBOT_QUEUE_WAIT": str(round(campaign.agent_wait or self.settings.call.agent_wait)),
                },
            )
        finally:
            self._lead_calls.pop(claim.call_id, None)
        return outcome.record

    def dialer(self) -> Dialer:
        """This worker's dialer over the running campaigns."""
        s = self.settings
        return Dialer(
            self.store,
            self.place_lead,
            worker=s.dialer.worker,
            max_channels=s.dialer.max_channels,
            capacity=capacity(s.speech.engine, cores(), s.speech.capacity),
            trunks={name: t.max_channels for name, t in s.trunks.items()},
            recovery=self.calls,
            outbox=self.outbox,
            pbx_away=self._pbx_away,
            clock=self.clock,
            tick=s.dialer.tick,
            silent_after=timedelta(seconds=max(60.0, 20 * s.dialer.tick)),
            humans=HumanSide(self.store, self.queues.summary, default_queue=s.call.queue, clock=self.clock),
        )

    async def _opted_out(self, call_id: str, destination: str) -> None:
        """The callee refused by voice: the number goes on the global do-not-call list at once
        (through the outbox: a database that is away gets it as soon as it is back, before any
        lead is claimed again)."""
        if not destination.startswith("+"):
            return  # a channel, not a phone number: nothing to block
        await self.outbox.write(
            "dnc_add",
            phones=[destination],
            reason="opted out by voice",
            actor=self.settings.dialer.worker,
            call_id=call_id,
        )

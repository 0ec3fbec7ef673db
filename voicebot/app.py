"""The one place that builds voicebot from settings and wires the parts together."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

from voicebot.calls.behaviour import GreetAndListen
from voicebot.calls.destination import resolve
from voicebot.calls.ears import Ears
from voicebot.calls.service import CallOutcome, CallService
from voicebot.config import Settings
from voicebot.errors import ConfigError
from voicebot.media.stream import MediaStream
from voicebot.media.wavfile import read_call_audio
from voicebot.speech.turns import TurnConfig
from voicebot.speech.vad import VoiceActivity
from voicebot.speech.vosk import VoskRecognizer
from voicebot.store import Store
from voicebot.telephony.agi import AgiServer
from voicebot.telephony.ami import AmiClient
from voicebot.telephony.audiosocket.server import AudioSocketServer
from voicebot.telephony.pbx import AsteriskPbx

log = logging.getLogger(__name__)


class App:
    """AMI + FastAGI + AudioSocket + the store, started and stopped together."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.db_url)
        self.greeting = read_call_audio(settings.call.greeting)
        s = settings.ami
        self.ami = AmiClient(
            s.host,
            s.port,
            s.username,
            s.secret.get_secret_value(),
            connect_timeout=s.connect_timeout,
            action_timeout=s.action_timeout,
            reconnect_max_delay=s.reconnect_max_delay,
        )
        self.pbx = AsteriskPbx(self.ami)
        sp = settings.speech
        self.turn_config = TurnConfig(
            trailing_silence=sp.trailing_silence,
            max_utterance=sp.max_utterance,
            no_input=settings.call.listen_seconds,
            min_speech=sp.min_speech,
            pre_roll=sp.pre_roll,
        )
        self.recognizer: VoskRecognizer | None = None
        if sp.engine == "vosk":
            if sp.model is None:
                raise ConfigError(
                    "[speech] engine = 'vosk' needs [speech] model, a vosk model directory",
                    hint="run `voicebot models` to see what is installed",
                )
            self.recognizer = VoskRecognizer(sp.model, threads=sp.decode_threads)
        self.agi: AgiServer | None = None
        self.audiosocket: AudioSocketServer | None = None
        self.calls: CallService | None = None

    async def start(self) -> None:
        await asyncio.to_thread(self.store.migrate)
        settings = self.settings
        self.calls = CallService(
            self.store,
            self.pbx,
            lambda _call_id: GreetAndListen(self.greeting, barge_in=settings.call.greeting_barge_in),
            self.ears,
            context=settings.dial.context,
            exten=settings.dial.exten,
            agi_address=lambda: settings.agi.address(self.agi.port if self.agi else None),
            audiosocket_address=lambda: settings.audiosocket.address(
                self.audiosocket.port if self.audiosocket else None
            ),
            ring_timeout=settings.dial.ring_timeout,
            caller_id=settings.dial.caller_id,
            max_call_seconds=settings.call.max_call_seconds,
        )
        self.audiosocket = AudioSocketServer(
            settings.audiosocket.host, settings.audiosocket.port, self.calls.on_media
        )
        self.agi = AgiServer(settings.agi.host, settings.agi.port, self.calls.on_agi)
        try:
            await self.audiosocket.start()
            await self.agi.start()
            await self.ami.connect()
        except BaseException:
            await self.stop()
            raise

    def ears(self, stream: MediaStream) -> Ears:
        """A call's ears: its own VAD and recognizer stream over the shared model."""
        recognizer = self.recognizer.stream() if self.recognizer is not None else None
        return Ears(
            VoiceActivity(self.settings.speech.vad_aggressiveness), recognizer, self.turn_config, stream.now
        )

    async def stop(self) -> None:
        """Stop taking calls, end the sessions, then close AMI and the store."""
        if self.agi is not None:
            await self.agi.close()
        if self.audiosocket is not None:
            await self.audiosocket.close()
        if self.calls is not None:
            await self.calls.close()
        await self.ami.close()
        if self.recognizer is not None:
            await asyncio.to_thread(self.recognizer.close)
        await asyncio.to_thread(self.store.close)

    async def __aenter__(self) -> App:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def call(
        self, destination: str, *, lead_id: str | None = None, campaign_id: str | None = None
    ) -> CallOutcome:
        """Place one call to a number or channel and wait for its completed record."""
        assert self.calls is not None, "App.start() first"
        d = self.settings.dial
        target = resolve(
            destination, template=d.channel_template, number_format=d.number_format, region=d.default_region
        )
        return await self.calls.place(target, lead_id=lead_id, campaign_id=campaign_id)

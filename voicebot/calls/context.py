"""What a behaviour can do on a call: speak, hear the callee's turn, hang up.

Every turn, the bot's and the callee's, is kept (speaker, text, start, end in
the call's media time) for the call record.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from voicebot.calls.ears import BargeIn, Ears, Heard
from voicebot.media import audio
from voicebot.media.stream import MediaStream, PlayResult
from voicebot.speech.backchannel import Backchannels

Journal = Callable[..., Awaitable[None]]
"""``await journal(kind, **data)`` appends an event to the call's record."""


@dataclass
class ScriptResult:
    """What a scripted behaviour decided, for the call record and the PBX."""

    outcome: str | None = None
    transfer_to: str | None = None  # queue to hand the call to when the bot is done
    opted_out: bool = False
    callback: str | None = None
    node_path: list[str] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    grade: str | None = None


@dataclass(frozen=True, slots=True)
class TurnRecord:
    speaker: str  # "bot" or "callee"
    text: str
    start: float
    end: float
    #: The bot's turn: the prompt's name (the script's node or global), and whether the callee
    #: cut it short (barge-in) or hung up during it.
    node: str | None = None
    cut: bool = False
    #: The callee's turn: what the script understood (intent, its confidence).
    intent: str | None = None
    confidence: float | None = None


class CallContext:
    def __init__(self, call_id: str, stream: MediaStream, journal: Journal, ears: Ears) -> None:
        self.call_id = call_id
        self._stream = stream
        self._journal = journal
        self.ears = ears
        self.heard = bytearray()  # all of the callee's audio so far
        self.bot_audio_seconds = 0.0
        self.callee_gone = asyncio.Event()
        self.dtmf: list[str] = []
        self.turns: list[TurnRecord] = []
        self.barge_ins: list[BargeIn] = []
        self.script: ScriptResult | None = None  # set by scripted behaviours

    def now(self) -> float:
        """The call's media time, in seconds."""
        return self._stream.now()

    async def note(self, kind: str, **data: object) -> None:
        """Add an event to the call's record."""
        await self._journal(kind, **data)

    async def play(
        self,
        pcm: bytes,
        name: str = "prompt",
        *,
        barge_in: bool = True,
        text: str = "",
        backchannels: Backchannels | None = None,
    ) -> PlayResult:
        """Play audio to the callee; with ``barge_in`` the callee talking over it stops it, unless
        what they said is one of the ``backchannels`` ("uh-huh": go on)."""
        started, wall = self._stream.now(), time.monotonic()
        caught: list[BargeIn] = []

        def on_barge_in(event: BargeIn) -> None:
            caught.append(event)
            self._stream.clear()

        self.ears.arm_barge_in(on_barge_in if barge_in else None, backchannels)
        before = len(self.ears.backchannels)
        result = PlayResult.HUNGUP  # unless the play returns: cancelled (the callee hung up)
        try:
            if backchannels is not None and barge_in:
                result = await self._play_hearing(pcm)
            else:
                result = await self._stream.play(pcm)
        finally:
            # kept even when the call is cancelled mid-prompt: the bot's words are on the record
            self.ears.arm_barge_in(None)
            played = time.monotonic() - wall
            self.bot_audio_seconds += min(played, audio.duration(pcm))
            self.turns.append(
                TurnRecord(
                    "bot",
                    text or name,
                    round(started, 3),
                    round(self._stream.now(), 3),
                    node=name,
                    cut=result is not PlayResult.COMPLETED,
                )
            )
        let_go = self.ears.backchannels[before:]
        extra = {}
        if caught:
            self.barge_ins.append(caught[0])
            extra = {
                "barge_in_speech_start": round(caught[0].speech_start, 3),
                "barge_in_detected": round(caught[0].detected, 3),
            }
        await self._journal(
            "prompt",
            name=name,
            text=text or name,
            start=self.turns[-1].start,
            end=self.turns[-1].end,
            seconds=round(audio.duration(pcm), 3),
            result=result.value,
            elapsed=round(played, 3),
            barge_in=barge_in,
            **extra,
        )
        for said in let_go:
            await self._journal(
                "backchannel", text=said.text, start=round(said.start, 3), end=round(said.end, 3)
            )
        return result

    async def _play_hearing(self, pcm: bytes) -> PlayResult:
        """The stream's play, with the ears kept on time meanwhile: speech heard over the prompt
        ends on silence even when the far end sends no frames in it."""
        playing = asyncio.ensure_future(self._stream.play(pcm))
        try:
            while not playing.done():
                await asyncio.wait({playing}, timeout=0.04)
                self.ears.catch_up()
            return playing.result()
        finally:
            if not playing.done():
                playing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await playing

    def understood(self, intent: str | None, confidence: float) -> None:
        """What the script made of the callee's last turn, kept on the turn."""
        for i in range(len(self.turns) - 1, -1, -1):
            if self.turns[i].speaker == "callee":
                self.turns[i] = dataclasses.replace(
                    self.turns[i], intent=intent, confidence=round(confidence, 3)
                )
                return

    async def hear(self, phrases: Sequence[str] | None = None) -> Heard:
        """The callee's next turn: its transcript (if a recognizer is set), timing, and why it ended."""
        heard = await self.ears.listen(phrases)
        start = heard.speech_start if heard.speech_start is not None else heard.opened
        end = heard.speech_end if heard.speech_end is not None else heard.decided
        self.turns.append(TurnRecord("callee", heard.text, round(start, 3), round(end, 3)))
        await self._journal(
            "heard",
            text=heard.text,
            start=round(start, 3),
            end=round(end, 3),
            confidence=heard.confidence,
            reason=heard.reason.value,
            speech_start=_r(heard.speech_start),
            speech_end=_r(heard.speech_end),
            decided=round(heard.decided, 3),
            barged_in=heard.barged_in,
        )
        return heard


def _r(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None

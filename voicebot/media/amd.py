"""Answering-machine detection from the first seconds of an answered call (pure audio math).

Where the PBX has no detector of its own (FreeSWITCH; Asterisk runs ``AMD()`` in the dialplan),
voicebot listens before the bot speaks, as Asterisk's app_amd does and with its defaults: a
person says a word or two ("Hello?") and waits; a machine starts a long greeting, or says
nothing at all. Each 20 ms frame is speech or silence by its mean magnitude (app_amd's
silence threshold, 256 of 32768); speech long enough is a word; the verdict is the first rule
that holds:

- silence before any word for ``initial_silence``: MACHINE (INITIALSILENCE)
- speech adding up to ``greeting`` before a pause: MACHINE (LONGGREETING)
- ``max_words`` words: MACHINE (MAXWORDS); one word longer than ``max_word_length``: MACHINE
- after the first words, silence for ``after_greeting_silence``: HUMAN
- nothing decided in ``total_analysis_time``: NOTSURE (the bot takes the call)
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass

import numpy as np

from voicebot.media.stream import AudioIn, HangupIn, MediaStream

FRAME_MS = 20


class Verdict(enum.Enum):
    HUMAN = "HUMAN"
    MACHINE = "MACHINE"
    NOTSURE = "NOTSURE"
    HANGUP = "HANGUP"  # the far end hung up before a verdict


@dataclass(frozen=True, slots=True)
class AmdSettings:
    """Milliseconds, as app_amd's amd.conf has them (its defaults)."""

    initial_silence: int = 2500
    greeting: int = 1500
    after_greeting_silence: int = 800
    total_analysis_time: int = 5000
    min_word_length: int = 100
    between_words_silence: int = 50
    max_words: int = 2
    max_word_length: int = 5000
    silence_threshold: int = 256


@dataclass(frozen=True, slots=True)
class AmdResult:
    verdict: Verdict
    cause: str  # INITIALSILENCE, LONGGREETING, MAXWORDS, MAXWORDLENGTH, HUMAN, TOOLONG, HANGUP
    after_ms: int  # how much audio it took

    @property
    def machine(self) -> bool:
        return self.verdict is Verdict.MACHINE


class MachineDetector:
    """Feed it the callee's 20 ms frames from the answer on; a result once it is decided."""

    def __init__(self, settings: AmdSettings | None = None) -> None:
        self.s = settings or AmdSettings()
        self._total = 0
        self._silence = 0  # consecutive silence
        self._voice = 0  # consecutive speech
        self._voiced = 0  # all speech so far
        self._words = 0
        self._in_word = False
        self._in_greeting = False
        self.result: AmdResult | None = None

    def feed(self, pcm: bytes) -> AmdResult | None:
        if self.result is not None:
            return self.result
        s = self.s
        self._total += FRAME_MS
        if self._total >= s.total_analysis_time:
            return self._decide(Verdict.NOTSURE, "TOOLONG")
        samples = np.frombuffer(pcm, dtype=np.int16)
        silent = samples.size == 0 or float(np.abs(samples.astype(np.int32)).mean()) < s.silence_threshold
        if silent:
            self._silence += FRAME_MS
            if self._silence >= s.between_words_silence:
                self._in_word = False
                self._voice = 0
            if not self._in_greeting and self._words == 0 and self._silence >= s.initial_silence:
                return self._decide(Verdict.MACHINE, "INITIALSILENCE")
            if self._in_greeting and self._silence >= s.after_greeting_silence:
                return self._decide(Verdict.HUMAN, "HUMAN")
            return None
        self._voice += FRAME_MS
        self._voiced += FRAME_MS
        self._silence = 0  # silence counts while it lasts
        if self._voice >= s.min_word_length:
            if not self._in_word:
                self._words += 1
                self._in_word = True
            self._in_greeting = True
        if self._voice >= s.max_word_length:
            return self._decide(Verdict.MACHINE, "MAXWORDLENGTH")
        if self._words >= s.max_words:
            return self._decide(Verdict.MACHINE, "MAXWORDS")
        if self._in_greeting and self._voiced >= s.greeting:
            return self._decide(Verdict.MACHINE, "LONGGREETING")
        return None

    @property
    def heard_ms(self) -> int:
        return self._total

    def _decide(self, verdict: Verdict, cause: str) -> AmdResult:
        self.result = AmdResult(verdict, cause, self._total)
        return self.result


async def detect(stream: MediaStream, settings: AmdSettings | None = None) -> AmdResult:
    """Listen to ``stream`` from now until the detector decides (the frames it took are the
    detector's: the session after it hears what follows). A far end that sends no audio at
    all is NOTSURE after the analysis time."""
    detector = MachineDetector(settings)

    async def listen() -> AmdResult:
        async for event in stream.events():
            if isinstance(event, HangupIn):
                return AmdResult(Verdict.HANGUP, "HANGUP", detector.heard_ms)
            if isinstance(event, AudioIn):
                result = detector.feed(event.pcm)
                if result is not None:
                    return result
        return AmdResult(Verdict.HANGUP, "HANGUP", detector.heard_ms)

    try:
        return await asyncio.wait_for(listen(), detector.s.total_analysis_time / 1000 + 1.0)
    except TimeoutError:
        return AmdResult(Verdict.NOTSURE, "TOOLONG", detector.heard_ms)


async def wait_for_silence(stream: MediaStream, *, silence_ms: int = 1500, max_ms: int = 15000) -> bool:
    """Listen until ``silence_ms`` of silence (a machine's greeting is over: its beep is next),
    at most ``max_ms``; False if the far end hung up first."""
    quiet = heard = 0
    threshold = AmdSettings().silence_threshold
    async for event in stream.events():
        if isinstance(event, HangupIn):
            return False
        if isinstance(event, AudioIn):
            heard += FRAME_MS
            samples = np.frombuffer(event.pcm, dtype=np.int16)
            loud = samples.size > 0 and float(np.abs(samples.astype(np.int32)).mean()) >= threshold
            quiet = 0 if loud else quiet + FRAME_MS
            if quiet >= silence_ms or heard >= max_ms:
                return True
    return False

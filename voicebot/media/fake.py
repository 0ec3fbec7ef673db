"""An in-memory MediaStream for unit tests of behaviours and sessions.

Time runs ``speed`` times faster than real time: a 2 s prompt plays in
2/speed real seconds, and audio the test makes the callee ``say`` arrives one
20 ms frame at a time on that clock, like Asterisk's. Its twin, the
AudioSocket stream, is proven against the real Asterisk in tests/integration.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from voicebot.media import audio
from voicebot.media.stream import AudioIn, DtmfIn, HangupIn, MediaEvent, PlayResult, until_hangup


class FakeMediaStream:
    def __init__(self, call_id: str = "00000000-0000-4000-8000-000000000000", *, speed: float = 10.0) -> None:
        self._call_id = call_id
        self.speed = speed
        self._events: asyncio.Queue[MediaEvent] = asyncio.Queue()
        self._closed = False
        self._clear = asyncio.Event()
        self._opened = time.monotonic()
        self._talk: asyncio.Task[None] | None = None
        self.played: list[tuple[bytes, PlayResult]] = []
        self.play_ended: list[float] = []  # stream time each play ended
        self.hung_up = False

    @property
    def call_id(self) -> str:
        return self._call_id

    @property
    def closed(self) -> bool:
        return self._closed

    def now(self) -> float:
        return (time.monotonic() - self._opened) * self.speed

    # -- what the test drives ----------------------------------------------------------
    def say(self, pcm: bytes, after: float = 0.0) -> asyncio.Task[None]:
        """The callee speaks ``pcm`` starting ``after`` seconds from now (stream time)."""

        async def talk() -> None:
            # frames on an absolute schedule: a late wake-up (a loaded machine) delays one frame,
            # it does not push every later frame back (relative sleeps drifted 0.3 s in 1 s)
            start = time.monotonic() + after / self.speed
            for i, frame in enumerate(audio.split_frames(pcm), start=1):
                if self._closed:
                    return
                delay = start + i * audio.FRAME_MS / 1000 / self.speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                self._events.put_nowait(AudioIn(frame, self.now()))

        self._talk = asyncio.create_task(talk())
        return self._talk

    def press(self, digit: str) -> None:
        self._events.put_nowait(DtmfIn(digit, self.now()))

    def callee_hangs_up(self) -> None:
        if not self._closed:
            self._closed = True
            self._clear.set()
            self._events.put_nowait(HangupIn("eof", self.now()))

    # -- MediaStream -------------------------------------------------------------------
    def events(self) -> AsyncIterator[MediaEvent]:
        return until_hangup(self._events)

    async def play(self, pcm: bytes) -> PlayResult:
        if self._closed:
            return PlayResult.HUNGUP
        self._clear.clear()
        try:
            await asyncio.wait_for(self._clear.wait(), audio.duration(pcm) / self.speed)
            result = PlayResult.HUNGUP if self._closed else PlayResult.INTERRUPTED
        except TimeoutError:
            result = PlayResult.COMPLETED
        self.played.append((pcm, result))
        self.play_ended.append(self.now())
        return result

    def clear(self) -> None:
        self._clear.set()

    async def hangup(self) -> None:
        self.hung_up = True
        await self.aclose()

    async def aclose(self) -> None:
        if self._talk is not None:
            self._talk.cancel()
        if not self._closed:
            self._closed = True
            self._clear.set()
            self._events.put_nowait(HangupIn("local", self.now()))

"""An in-memory MediaStream for unit tests of behaviours and sessions.

It plays audio on a simulated clock (``speed`` times real time) and delivers
whatever inbound events the test scripts. Its twin, the AudioSocket stream, is
proven against the real Asterisk in tests/integration.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from voicebot.media import audio
from voicebot.media.stream import AudioIn, DtmfIn, HangupIn, MediaEvent, PlayResult, until_hangup


class FakeMediaStream:
    def __init__(self, call_id: str = "00000000-0000-4000-8000-000000000000", *, speed: float = 50.0) -> None:
        self._call_id = call_id
        self._speed = speed
        self._events: asyncio.Queue[MediaEvent] = asyncio.Queue()
        self._closed = False
        self._clear = asyncio.Event()
        self.played: list[tuple[bytes, PlayResult]] = []
        self.hung_up = False
        self._t = 0.0

    @property
    def call_id(self) -> str:
        return self._call_id

    @property
    def closed(self) -> bool:
        return self._closed

    # -- what the test drives ----------------------------------------------------------
    def say(self, pcm: bytes) -> None:
        """The callee speaks: ``pcm`` arrives as 20 ms frames."""
        for frame in audio.split_frames(pcm):
            self._t += audio.FRAME_MS / 1000
            self._events.put_nowait(AudioIn(frame, self._t))

    def press(self, digit: str) -> None:
        self._events.put_nowait(DtmfIn(digit, self._t))

    def callee_hangs_up(self) -> None:
        if not self._closed:
            self._closed = True
            self._clear.set()
            self._events.put_nowait(HangupIn("eof", self._t))

    # -- MediaStream -------------------------------------------------------------------
    def events(self) -> AsyncIterator[MediaEvent]:
        return until_hangup(self._events)

    async def play(self, pcm: bytes) -> PlayResult:
        if self._closed:
            return PlayResult.HUNGUP
        self._clear.clear()
        try:
            await asyncio.wait_for(self._clear.wait(), audio.duration(pcm) / self._speed)
            result = PlayResult.HUNGUP if self._closed else PlayResult.INTERRUPTED
        except TimeoutError:
            result = PlayResult.COMPLETED
        self.played.append((pcm, result))
        return result

    def clear(self) -> None:
        self._clear.set()

    async def hangup(self) -> None:
        self.hung_up = True
        await self.aclose()

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._clear.set()
            self._events.put_nowait(HangupIn("local", self._t))

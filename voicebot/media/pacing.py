"""Outgoing audio pacing: pure bookkeeping, driven by a transport's clock.

Asterisk must receive one 320-byte frame every 20 ms: a burst overflows its
voice queue and is mostly lost, and 2 s with no frame in either direction ends
app_audiosocket. So the transport ticks on its own clock and asks a
:class:`Playout` for the next frame, which is queued audio or silence.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from voicebot.media.audio import FRAME_BYTES, split_frames
from voicebot.media.stream import MediaEvent, PlayResult, until_hangup


@dataclass
class _Item:
    frames: list[bytes]
    done: asyncio.Future[PlayResult]
    index: int = 0


@dataclass
class Playout:
    """A queue of prompts cut into frames; each ``next_frame`` takes one."""

    _items: deque[_Item] = field(default_factory=deque)
    frames_played: int = 0

    def enqueue(self, pcm: bytes) -> asyncio.Future[PlayResult]:
        done: asyncio.Future[PlayResult] = asyncio.get_running_loop().create_future()
        frames = list(split_frames(pcm, FRAME_BYTES))
        if not frames:
            done.set_result(PlayResult.COMPLETED)
        else:
            self._items.append(_Item(frames, done))
        return done

    def next_frame(self) -> bytes | None:
        """The next frame to send, or None when idle (the caller sends silence)."""
        while self._items:
            item = self._items[0]
            if item.done.done():  # its awaiter was cancelled
                self._items.popleft()
                continue
            frame = item.frames[item.index]
            item.index += 1
            self.frames_played += 1
            if item.index == len(item.frames):
                self._items.popleft()
                item.done.set_result(PlayResult.COMPLETED)
            return frame
        return None

    @property
    def busy(self) -> bool:
        return any(not item.done.done() for item in self._items)

    def clear(self, result: PlayResult = PlayResult.INTERRUPTED) -> None:
        """Drop everything queued; pending plays end with ``result``."""
        while self._items:
            item = self._items.popleft()
            if not item.done.done():
                item.done.set_result(result)


@dataclass
class FrameClock:
    """How many frames are due at a given time, on a fixed 20 ms grid.

    Frame n is due at ``start + n * period``. A tick that finds more than one
    frame due is late: the frames are sent at once (catch-up, up to
    ``max_burst``) and the frame is counted in ``late_frames``. Beyond
    ``max_burst`` the grid restarts from now and an underrun is counted.
    """

    start: float
    period: float = 0.020
    max_burst: int = 5
    sent: int = 0
    late_frames: int = 0
    underruns: int = 0

    def due(self, now: float) -> int:
        target = math.floor((now - self.start) / self.period + 1e-6) + 1
        n = target - self.sent
        if n <= 0:
            return 0
        if n > self.max_burst:
            self.underruns += 1
            self.start = now
            self.sent = 0
            n = 1
        elif n > 1:
            self.late_frames += n - 1
        self.sent += n
        return n

    def next_deadline(self) -> float:
        return self.start + self.sent * self.period


class TokenBucket:
    """At most ``rate`` units a second on average, ``burst`` at once. Pure: the caller gives
    the time. Bounds what a peer may push in (audio bytes, DTMF digits), whatever its speed."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._at = now

    def take(self, amount: float, now: float) -> bool:
        """Spend ``amount`` if there is that much; False (nothing spent) if not."""
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if amount > self._tokens:
            return False
        self._tokens -= amount
        return True


class PlayoutStream:
    """What every transport's :class:`~voicebot.media.stream.MediaStream` shares: its id, the
    queue of events it heard, the prompts waiting to go out, and the clock its events are
    stamped with. A transport feeds ``_events`` and takes frames from ``_playout``."""

    def __init__(self, call_id: str) -> None:
        self._call_id = call_id
        self._events: asyncio.Queue[MediaEvent] = asyncio.Queue()
        self._playout = Playout()
        self._opened = time.monotonic()
        self._closed = False

    @property
    def call_id(self) -> str:
        return self._call_id

    @property
    def closed(self) -> bool:
        return self._closed

    def now(self) -> float:
        return time.monotonic() - self._opened

    def events(self) -> AsyncIterator[MediaEvent]:
        return until_hangup(self._events)

    async def play(self, pcm: bytes) -> PlayResult:
        if self._closed:
            return PlayResult.HUNGUP
        return await self._playout.enqueue(pcm)

    def clear(self) -> None:
        self._playout.clear()

    @property
    def playing(self) -> bool:
        return self._playout.busy

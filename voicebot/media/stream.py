"""The MediaStream contract: one call's audio in both directions.

A transport (AudioSocket today, others later) implements it; the call session
uses only this interface, so behaviours are tested against
:class:`voicebot.media.fake.FakeMediaStream` and proven against the real one.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AudioIn:
    """20 ms of the callee's audio; ``at`` is seconds since the stream opened."""

    pcm: bytes
    at: float


@dataclass(frozen=True, slots=True)
class DtmfIn:
    digit: str
    at: float


@dataclass(frozen=True, slots=True)
class HangupIn:
    """The far end is gone: ``reason`` is eof, hangup-frame, error or local."""

    reason: str
    at: float


MediaEvent = AudioIn | DtmfIn | HangupIn


async def until_hangup(queue: asyncio.Queue[MediaEvent]) -> AsyncIterator[MediaEvent]:
    """A transport's queued events, ending after the first :class:`HangupIn`."""
    while True:
        event = await queue.get()
        yield event
        if isinstance(event, HangupIn):
            return


class PlayResult(enum.Enum):
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"  # clear() stopped it (barge-in)
    HUNGUP = "hungup"  # the stream closed before it finished


class MediaStream(Protocol):
    """Audio in and out of one call.

    Events end with a single :class:`HangupIn`. ``play`` queues audio behind
    what is already playing and returns when it has been sent in full, cleared,
    or the stream closed. When nothing is queued the transport sends silence.
    """

    @property
    def call_id(self) -> str: ...

    @property
    def closed(self) -> bool: ...

    def now(self) -> float:
        """Seconds since the stream opened, on the clock its events are stamped with."""
        ...

    def events(self) -> AsyncIterator[MediaEvent]: ...

    async def play(self, pcm: bytes) -> PlayResult: ...

    def clear(self) -> None: ...

    async def hangup(self) -> None:
        """Ask the PBX to end the media leg, then close."""
        ...

    async def aclose(self) -> None: ...

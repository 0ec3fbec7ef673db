"""Helpers shared by tests."""

from __future__ import annotations

from voicebot.calls.context import CallContext
from voicebot.calls.ears import Ears
from voicebot.media.stream import AudioIn, HangupIn, MediaStream


async def media_reader(stream: MediaStream, ears: Ears, context: CallContext) -> None:
    """The session's media reader, reduced to what ears tests need."""
    async for event in stream.events():
        if isinstance(event, AudioIn):
            context.heard += event.pcm
            ears.hear(event.pcm, event.at)
        elif isinstance(event, HangupIn):
            ears.hangup(event.at)


async def no_journal(kind: str, **data: object) -> None:
    pass

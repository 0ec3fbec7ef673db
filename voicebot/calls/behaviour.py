"""Behaviours a call session can run. Later issues add speech and scripts."""

from __future__ import annotations

from dataclasses import dataclass

from voicebot.calls.session import CallContext
from voicebot.media.stream import PlayResult


@dataclass(frozen=True)
class GreetAndListen:
    """Play a greeting, listen for a while, then end the call."""

    greeting: bytes
    listen_seconds: float

    async def run(self, call: CallContext) -> None:
        if await call.play(self.greeting, name="greeting") is PlayResult.HUNGUP:
            return
        await call.listen(self.listen_seconds)

"""Behaviours a call session can run. The sales-script engine arrives in a later issue."""

from __future__ import annotations

from dataclasses import dataclass

from voicebot.calls.context import CallContext
from voicebot.media.stream import PlayResult


@dataclass(frozen=True)
class GreetAndListen:
    """Play a greeting, hear the callee's answer, then end the call."""

    greeting: bytes
    barge_in: bool = False  # an opening with the legal disclosure is heard in full
    text: str = ""  # what the greeting says, for the transcript

    async def run(self, call: CallContext) -> None:
        played = await call.play(self.greeting, name="greeting", barge_in=self.barge_in, text=self.text)
        if played is PlayResult.HUNGUP:
            return
        await call.hear()

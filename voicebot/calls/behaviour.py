"""Behaviours a call session can run besides a sales script (``voicebot.calls.scripted``)."""

from __future__ import annotations

from dataclasses import dataclass

from voicebot.calls.context import CallContext, ScriptResult
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


@dataclass
class Apology:
    """A script without a ``no_agent`` node: the callee no agent took hears an apology and a
    promise of a callback (the campaign's default delay, moved into the calling window)."""

    audio: bytes
    text: str

    async def run(self, call: CallContext) -> None:
        call.script = ScriptResult(outcome="callback", callback="unspecified", node_path=["no_agent"])
        await call.play(self.audio, name="no_agent", barge_in=False, text=self.text)

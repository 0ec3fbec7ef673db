"""One call's session: the media stream joined to a behaviour, with every task owned.

The session reads the callee's audio for the whole call, runs the behaviour
(play, listen, decide), and ends the call when the behaviour returns, the
callee hangs up, or the call runs too long. A failing behaviour ends its own
call, never the process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Protocol

from voicebot.calls.context import CallContext, Journal, ScriptResult, TurnRecord
from voicebot.calls.ears import Ears
from voicebot.media import audio
from voicebot.media.stream import AudioIn, DtmfIn, HangupIn, MediaStream

log = logging.getLogger(__name__)


class Behaviour(Protocol):
    """What the bot does on a call. Later: a sales script; for now a greeting."""

    async def run(self, call: CallContext) -> None: ...


@dataclass(frozen=True, slots=True)
class SessionResult:
    end_reason: str  # bot-hangup, callee-hangup, max-duration, error
    error: str | None
    started: float
    ended: float
    bot_audio_seconds: float
    callee_audio_seconds: float
    callee_audio_rms: float
    turns: tuple[TurnRecord, ...] = ()
    script: ScriptResult | None = None


class CallSession:
    def __init__(
        self,
        call_id: str,
        stream: MediaStream,
        behaviour: Behaviour,
        journal: Journal,
        ears: Ears,
        *,
        max_seconds: float = 600.0,
        hangup_grace: float = 0.0,
    ) -> None:
        self.call_id = call_id
        self._stream = stream
        self._behaviour = behaviour
        self._journal = journal
        self._max_seconds = max_seconds
        self._hangup_grace = hangup_grace
        self.context = CallContext(call_id, stream, journal, ears)
        self._end_reason: str | None = None
        self._error: str | None = None
        self._behaviour_task: asyncio.Task[None] | None = None

    async def run(self) -> SessionResult:
        started = time.time()
        await self._journal("media_started")
        async with asyncio.TaskGroup() as tasks:
            self._behaviour_task = tasks.create_task(self._run_behaviour(), name=f"behaviour-{self.call_id}")
            tasks.create_task(self._read_media(), name=f"media-in-{self.call_id}")
        await self.context.ears.aclose()
        heard = bytes(self.context.heard)
        result = SessionResult(
            end_reason=self._end_reason or "bot-hangup",
            error=self._error,
            started=started,
            ended=time.time(),
            bot_audio_seconds=round(self.context.bot_audio_seconds, 3),
            callee_audio_seconds=round(audio.duration(heard), 3),
            callee_audio_rms=round(audio.rms(heard), 5),
            turns=tuple(self.context.turns),
            script=self.context.script,
        )
        await self._journal("media_ended", reason=result.end_reason, error=result.error)
        return result

    async def _run_behaviour(self) -> None:
        try:
            async with asyncio.timeout(self._max_seconds):
                await self._behaviour.run(self.context)
            await self._let_the_callee_hang_up()
            self._end_reason = self._end_reason or "bot-hangup"
        except TimeoutError:
            self._end_reason = "max-duration"
        except asyncio.CancelledError:
            if not self.context.callee_gone.is_set():
                raise
        except Exception as e:  # a broken behaviour ends this call only
            log.exception("behaviour failed", extra={"call_id": self.call_id})
            self._end_reason, self._error = "error", f"{type(e).__name__}: {e}"
        finally:
            await self._stream.hangup()

    async def _let_the_callee_hang_up(self) -> None:
        """After the bot's last words, the callee may hang up first (a call handed to an agent
        goes on at once). A callee hangup now cancels this wait like any behaviour."""
        script = self.context.script
        if self._hangup_grace <= 0 or (script is not None and script.outcome == "transferred"):
            return
        await self._journal("hangup_grace", seconds=self._hangup_grace)
        try:
            await asyncio.wait_for(self.context.callee_gone.wait(), self._hangup_grace)
        except TimeoutError:
            pass

    async def _read_media(self) -> None:
        async for event in self._stream.events():
            match event:
                case AudioIn(pcm, at):
                    self.context.heard += pcm
                    self.context.ears.hear(pcm, at)
                case DtmfIn(digit, at):
                    self.context.dtmf.append(digit)
                    await self._journal("dtmf", digit=digit, at=round(at, 3))
                case HangupIn(reason, at):
                    self.context.ears.hangup(at)
                    if reason != "local":
                        self._end_reason = self._end_reason or "callee-hangup"
                        self.context.callee_gone.set()
                        if self._behaviour_task is not None:
                            self._behaviour_task.cancel()
                        await self._journal("callee_hangup", reason=reason, at=round(at, 3))

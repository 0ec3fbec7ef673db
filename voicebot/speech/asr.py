"""The speech recognition contract: a loaded model, and one stream per call.

A stream takes 20 ms chunks of 8 kHz audio during a turn, may return partial
transcripts as it goes, and gives the turn's final transcript from
``finish()``, after which it is ready for the next turn. Decoding runs off the
event loop, on the recognizer's shared ``DecodePool``.

When the callee falls silent the ears call ``speculate()``: the turn may be over,
so a recognizer that only transcribes at the end (Whisper) starts on the audio so
far. If the silence holds, ``finish()`` with nothing pushed since returns that
result; if the callee goes on, the next ``push()`` throws it away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from voicebot.speech.decoding import DecodePool


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    final: bool
    confidence: float  # 0..1; 0 when the engine gives none
    start: float = 0.0  # seconds, in the call's media time
    end: float = 0.0


class RecognizerStream(Protocol):
    async def push(self, pcm: bytes) -> Transcript | None:
        """Decode a chunk; a partial transcript when the engine has a new one."""
        ...

    async def finish(self) -> Transcript:
        """The turn's final transcript; the stream is then reset for the next turn."""
        ...

    def speculate(self, within: float) -> None:
        """The turn may have ended: start on its final transcript, needed ``within`` seconds."""
        ...

    def set_phrases(self, phrases: Sequence[str] | None) -> None:
        """Restrict recognition to these phrases for the next turn (None: open vocabulary)."""
        ...

    async def aclose(self) -> None: ...


class SpeechRecognizer(Protocol):
    """A loaded model, shared by every call of the process."""

    @property
    def name(self) -> str: ...

    @property
    def pool(self) -> DecodePool:
        """The decoder threads every stream of this recognizer shares."""
        ...

    def stream(self) -> RecognizerStream: ...

    def close(self) -> None: ...

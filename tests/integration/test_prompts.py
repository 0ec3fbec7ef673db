"""Prompts rendered by the real espeak-ng through pyttsx3, cached on disk; recorded overrides."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from voicebot.errors import ConfigError, MediaError
from voicebot.media import audio
from voicebot.speech.prompts import Prompt, PromptCache
from voicebot.speech.tts import Synthesizer


@pytest.fixture
async def synth():
    s = Synthesizer()
    yield s
    s.close()


async def test_english_and_mandarin_render_as_call_audio(synth):
    en = await synth.render("Hello, this is an automated call from Acme Broadband.", "en-us", 160)
    zh = await synth.render("您好，这是宽带公司的自动来电。", "zh", 160)
    for pcm in (en, zh):
        assert len(pcm) % 2 == 0
        assert 1.5 < audio.duration(pcm) < 8
        assert audio.rms(pcm) > 0.02
    assert synth.voice_id("zh").lower().endswith("cmn-latn-pinyin")  # the voice that reads Chinese correctly


async def test_unknown_voice_is_an_error_not_silence(synth):
    with pytest.raises(ConfigError, match="espeak-ng has no voice 'xx-nope'") as err:
        await synth.render("hi", "xx-nope", 160)
    assert "en-us" in str(err.value)


async def test_cache_renders_once_and_survives_restart(synth, tmp_path):
    cache = PromptCache(synth, tmp_path / "prompts")
    prompt = Prompt("greeting", "Good morning. This is Acme calling.", voice="en-us", rate=170)
    a1 = await cache.audio(prompt)
    a2 = await cache.audio(prompt)
    assert a1 == a2 and cache.renders == 1
    assert len(list((tmp_path / "prompts").glob("*.wav"))) == 1
    fresh = PromptCache(synth, tmp_path / "prompts")
    assert await fresh.audio(prompt) == a1
    assert fresh.renders == 0  # read from disk, no synthesis
    faster = Prompt("greeting", prompt.text, voice="en-us", rate=260)
    assert audio.duration(await fresh.audio(faster)) < audio.duration(a1)


async def test_a_personal_prompt_is_never_written_and_few_are_kept(synth, tmp_path):
    """Before: a prompt filled with a lead's name was cached on disk forever, and in memory
    without bound."""
    cache = PromptCache(synth, tmp_path / "prompts", personal_limit=3)
    prompt = Prompt("greeting", "Good morning, {name}. This is Acme calling.", voice="en-us", rate=170)
    alice = await cache.audio(prompt, {"name": "Alice"})
    assert await cache.audio(prompt, {"name": "Alice"}) == alice and cache.renders == 1
    assert await cache.audio(prompt, {"name": "Bob"}) != alice
    for name in ("Carol", "Dave", "Erin", "Frank"):
        await cache.audio(prompt, {"name": name})
    assert cache.personal == 3  # the most recent only
    assert not (tmp_path / "prompts").exists() or not list((tmp_path / "prompts").iterdir())
    again = await cache.audio(prompt, {"name": "Alice"})  # forgotten: rendered again
    assert cache.renders == 7 and audio.duration(again) == pytest.approx(audio.duration(alice), abs=0.05)


async def test_missing_variable_names_prompt_and_variable(synth, tmp_path):
    cache = PromptCache(synth, tmp_path)
    with pytest.raises(MediaError, match=r"prompt 'greeting' needs name"):
        await cache.audio(Prompt("greeting", "Hello {name}"), {})


async def test_recorded_prompt_overrides_the_voice(synth, tmp_path):
    path = tmp_path / "real-person.wav"
    stereo = np.repeat(np.frombuffer(audio.tone(350, 1.0, rate=44100), dtype="<i2"), 2)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(stereo.tobytes())
    cache = PromptCache(synth, tmp_path / "cache")
    pcm = await cache.audio(Prompt("opening", "ignored text", recording=path))
    assert audio.duration(pcm) == pytest.approx(1.0, abs=0.01)
    assert cache.renders == 0


async def test_prepare_renders_fixed_prompts_and_reports_bad_recordings(synth, tmp_path):
    cache = PromptCache(synth, tmp_path / "cache")
    good = [Prompt("a", "Thank you for your time."), Prompt("b", "Hello {name}")]
    await cache.prepare(good)
    assert cache.renders == 1  # the prompt with a variable waits for its call
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF not really")
    with pytest.raises(MediaError, match=r"prompt 'close': .*broken.wav: not a readable PCM WAV"):
        await cache.prepare([Prompt("close", "x", recording=bad)])
    with pytest.raises(MediaError, match=r"prompt 'gone': .*no such audio file"):
        await cache.prepare([Prompt("gone", "x", recording=tmp_path / "missing.wav")])

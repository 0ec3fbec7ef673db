"""Audio math and WAV loading."""

import wave

import numpy as np
import pytest

from voicebot.errors import MediaError
from voicebot.media import audio
from voicebot.media.wavfile import read_call_audio, write_call_audio


def test_rms_of_silence_and_full_scale_sine():
    assert audio.rms(bytes(320)) == 0.0
    assert audio.rms(b"") == 0.0
    level = audio.rms(audio.tone(440, 1.0, level=1.0))
    assert abs(level - 1 / np.sqrt(2)) < 0.01


def test_split_frames_pads_the_last():
    frames = list(audio.split_frames(b"\x01" * 700))
    assert [len(f) for f in frames] == [320, 320, 320]
    assert frames[-1].endswith(bytes(260))


def test_resample_keeps_duration_and_tone():
    src = np.frombuffer(audio.tone(300, 1.0, rate=22050), dtype="<i2")
    out = audio.resample(src, 22050, 8000)
    assert out.size == 8000
    spectrum = np.abs(np.fft.rfft(out.astype(float)))
    assert abs(np.argmax(spectrum) - 300) <= 1  # 1 Hz bins over 1 s


@pytest.mark.parametrize(("rate", "channels"), [(8000, 1), (16000, 1), (44100, 2), (22050, 1)])
def test_read_any_wav_as_call_audio(tmp_path, rate, channels):
    mono = np.frombuffer(audio.tone(500, 0.5, rate=rate), dtype="<i2")
    data = np.repeat(mono, channels) if channels > 1 else mono
    path = tmp_path / "in.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.astype("<i2").tobytes())
    pcm = read_call_audio(path)
    assert abs(audio.duration(pcm) - 0.5) < 0.01
    assert abs(audio.rms(pcm) - 0.3 / np.sqrt(2)) < 0.02


def test_write_then_read_round_trip(tmp_path):
    pcm = audio.tone(1000, 0.2)
    write_call_audio(tmp_path / "x.wav", pcm)
    assert read_call_audio(tmp_path / "x.wav") == pcm


def test_unreadable_files_name_the_file_and_the_fix(tmp_path):
    with pytest.raises(MediaError, match="no such audio file"):
        read_call_audio(tmp_path / "missing.wav")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav at all")
    with pytest.raises(MediaError, match=r"bad.wav: not a readable PCM WAV") as err:
        read_call_audio(bad)
    assert "sox" in str(err.value)

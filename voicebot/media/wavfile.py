"""Read and write WAV files as 8 kHz mono 16-bit call audio."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from voicebot.errors import MediaError
from voicebot.media import audio


def read_call_audio(path: Path) -> bytes:
    """Load a PCM WAV file of any rate and channel count as 8 kHz mono 16-bit PCM."""
    try:
        with wave.open(str(path), "rb") as w:
            width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except FileNotFoundError as e:
        raise MediaError(f"{path}: no such audio file", hint="check the prompt's path") from e
    except (wave.Error, EOFError) as e:
        raise MediaError(
            f"{path}: not a readable PCM WAV file ({e})",
            hint=f"convert it: sox {path.name} -r 8000 -b 16 -c 1 out.wav",
        ) from e
    if width == 2:
        data = np.frombuffer(raw, dtype="<i2")
    elif width == 1:
        data = ((np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    elif width == 4:
        data = (np.frombuffer(raw, dtype="<i4") >> 16).astype(np.int16)
    else:
        raise MediaError(f"{path}: {width * 8}-bit samples are not supported", hint="use 16-bit PCM")
    mono = audio.to_mono(data, channels)
    return audio.resample(mono, rate, audio.SAMPLE_RATE).astype("<i2").tobytes()


def write_call_audio(path: Path, pcm: bytes, rate: int = audio.SAMPLE_RATE) -> None:
    """Write 16-bit mono PCM as a WAV file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)

"""Telephone audio math: pure functions over signed 16-bit little-endian PCM.

The call media format is 8 kHz mono, 16-bit: one 20 ms frame is 160 samples,
320 bytes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 8000
FRAME_MS = 20
SAMPLES_PER_FRAME = SAMPLE_RATE * FRAME_MS // 1000
FRAME_BYTES = SAMPLES_PER_FRAME * 2
SILENCE_FRAME = bytes(FRAME_BYTES)
FULL_SCALE = 32768.0


def samples(pcm: bytes) -> npt.NDArray[np.int16]:
    """View PCM bytes as int16 samples (a trailing odd byte is dropped)."""
    return np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2")


def duration(pcm: bytes, rate: int = SAMPLE_RATE) -> float:
    """Seconds of audio in ``pcm``."""
    return len(pcm) / 2 / rate


def rms(pcm: bytes) -> float:
    """Root-mean-square level relative to full scale: 0.0 (silence) to ~1.0."""
    s = samples(pcm)
    if s.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(np.square(s.astype(np.float64))))) / FULL_SCALE


def split_frames(pcm: bytes, frame_bytes: int = FRAME_BYTES) -> Iterator[bytes]:
    """Cut PCM into frames of ``frame_bytes``; the last one is padded with silence."""
    for start in range(0, len(pcm), frame_bytes):
        chunk = pcm[start : start + frame_bytes]
        if len(chunk) < frame_bytes:
            chunk += bytes(frame_bytes - len(chunk))
        yield chunk


def to_mono(interleaved: npt.NDArray[np.int16], channels: int) -> npt.NDArray[np.int16]:
    """Average interleaved channels into one."""
    if channels == 1:
        return interleaved
    frames = interleaved[: interleaved.size // channels * channels].reshape(-1, channels)
    mono: npt.NDArray[np.int16] = frames.mean(axis=1).round().astype(np.int16)
    return mono


def resample(pcm: npt.NDArray[np.int16], src_rate: int, dst_rate: int) -> npt.NDArray[np.int16]:
    """Resample mono int16 audio.

    Downsampling first applies a moving-average low-pass so content above the
    new Nyquist frequency does not fold back as noise.
    """
    if src_rate == dst_rate or pcm.size == 0:
        return pcm
    x = pcm.astype(np.float64)
    if dst_rate < src_rate:
        width = max(1, round(src_rate / dst_rate))
        if width > 1:
            x = np.convolve(x, np.ones(width) / width, mode="same")
    n_out = max(1, round(x.size * dst_rate / src_rate))
    t_out = np.arange(n_out) * (src_rate / dst_rate)
    y = np.interp(t_out, np.arange(x.size), x)
    out: npt.NDArray[np.int16] = np.clip(np.round(y), -32768, 32767).astype(np.int16)
    return out


def tone(freq: float, seconds: float, level: float = 0.3, rate: int = SAMPLE_RATE) -> bytes:
    """A sine tone as PCM bytes (for tests, benchmarks and line checks)."""
    t = np.arange(round(seconds * rate)) / rate
    wave = level * FULL_SCALE * np.sin(2 * np.pi * freq * t)
    return np.clip(np.round(wave), -32768, 32767).astype("<i2").tobytes()

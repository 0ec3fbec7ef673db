"""Recordings kept compressed: a call's WAV (as MixMonitor writes it) becomes Ogg Opus beside it.

Opus at 16 kbit/s is made for speech: a minute of an 8 kHz mono call (960 KB as WAV) keeps in
about 120 KB, and speech recognition on it loses nothing it needs. The Opus file is written
under a temporary name and renamed (a crash never leaves half a recording under the real name),
with the WAV's permissions; the WAV is removed only after that.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import av.error

from voicebot.errors import MediaError

#: Opus takes these input rates; anything else is resampled to 16 kHz.
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
BITRATE = 16_000
SUFFIX = ".opus"


def compress(wav: Path, *, bitrate: int = BITRATE) -> Path:
    """Encode ``wav`` as Ogg Opus (``NAME.opus`` beside it) and remove the WAV; the new path.
    MediaError for a file that is no readable audio (the WAV is then left as it is)."""
    out = wav.with_suffix(SUFFIX)
    part = wav.with_suffix(SUFFIX + ".part")
    try:
        with av.open(str(wav)) as source:
            audio_in = source.streams.audio[0]
            rate = audio_in.sample_rate if audio_in.sample_rate in OPUS_RATES else 16000
            resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
            with av.open(str(part), "w", format="ogg") as target:
                stream = target.add_stream("libopus", rate=rate, layout="mono")
                stream.bit_rate = bitrate
                for frame in source.decode(audio_in):
                    for mono in resampler.resample(frame):
                        for packet in stream.encode(mono):
                            target.mux(packet)
                for mono in resampler.resample(None):
                    for packet in stream.encode(mono):
                        target.mux(packet)
                for packet in stream.encode(None):
                    target.mux(packet)
        os.chmod(part, wav.stat().st_mode & 0o777)
        part.replace(out)
    except (av.error.FFmpegError, IndexError, ValueError, OSError) as e:
        part.unlink(missing_ok=True)
        raise MediaError(f"{wav}: not compressed ({e})") from None
    wav.unlink()
    return out


def duration(path: Path) -> float:
    """Seconds of audio in a recording (WAV or Opus)."""
    try:
        with av.open(str(path)) as f:
            return sum(frame.samples / frame.sample_rate for frame in f.decode(audio=0))
    except (av.error.FFmpegError, IndexError, OSError) as e:
        raise MediaError(f"{path}: not readable audio ({e})") from None


def decode(path: Path, rate: int = 16000) -> bytes:
    """A recording as 16-bit mono PCM at ``rate`` (to listen to it, or to transcribe it)."""
    try:
        with av.open(str(path)) as f:
            resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
            pcm = bytearray()
            for frame in f.decode(audio=0):
                for out in resampler.resample(frame):
                    pcm += bytes(out.planes[0])[: out.samples * 2]
            for out in resampler.resample(None):
                pcm += bytes(out.planes[0])[: out.samples * 2]
            return bytes(pcm)
    except (av.error.FFmpegError, IndexError, OSError) as e:
        raise MediaError(f"{path}: not readable audio ({e})") from None

"""Voice activity detection on 8 kHz call audio, with WebRTC's VAD (webrtcvad-wheels)."""

from __future__ import annotations

import webrtcvad

from voicebot.errors import ConfigError
from voicebot.media.audio import FRAME_BYTES, SAMPLE_RATE


class VoiceActivity:
    """Speech or not, per 20 ms frame. ``aggressiveness`` 0 (lenient) to 3 (strict)."""

    def __init__(self, aggressiveness: int = 2) -> None:
        if aggressiveness not in (0, 1, 2, 3):
            raise ConfigError(f"VAD aggressiveness must be 0-3, got {aggressiveness}")
        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: bytes) -> bool:
        if len(frame) != FRAME_BYTES:
            frame = frame[:FRAME_BYTES].ljust(FRAME_BYTES, b"\0")
        return bool(self._vad.is_speech(frame, SAMPLE_RATE))

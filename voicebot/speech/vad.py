"""Voice activity detection on 8 kHz call audio: speech or not, per 20 ms frame.

Two detectors: WebRTC's (webrtcvad-wheels, the default), and Silero VAD v6 (the ONNX
model faster-whisper ships), a small LSTM that declares silence ~100 ms sooner after
the callee's last word (``bench/turn_end.py``), so the turn's trailing silence starts
counting from the word, not from the detector's hangover.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import webrtcvad

from voicebot.errors import ConfigError
from voicebot.media.audio import FRAME_BYTES, SAMPLE_RATE


class Vad(Protocol):
    def is_speech(self, frame: bytes) -> bool:
        """Whether this 20 ms frame (the next one of the call) is speech."""
        ...


def _frame(frame: bytes) -> bytes:
    return frame if len(frame) == FRAME_BYTES else frame[:FRAME_BYTES].ljust(FRAME_BYTES, b"\0")


class VoiceActivity:
    """WebRTC's VAD. ``aggressiveness`` 0 (lenient) to 3 (strict)."""

    def __init__(self, aggressiveness: int = 2) -> None:
        if aggressiveness not in (0, 1, 2, 3):
            raise ConfigError(f"VAD aggressiveness must be 0-3, got {aggressiveness}")
        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: bytes) -> bool:
        return bool(self._vad.is_speech(_frame(frame), SAMPLE_RATE))


class SileroModel:
    """The Silero VAD v6 network, loaded once and shared by every call (ONNX Runtime's ``run``
    is thread-safe; each call keeps its own state)."""

    WINDOW, CONTEXT = 512, 64  # samples at 16 kHz: 32 ms windows, each with the 4 ms before it

    def __init__(self, path: Path | None = None) -> None:
        path = path or self.bundled()
        if path is None or not path.is_file():
            raise ConfigError(
                f"Silero VAD model not found{f' at {path}' if path else ''}",
                hint="install the whisper extra (pip install 'voicebot[whisper]'), or speech.vad = webrtc",
            )
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 4
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )

    @staticmethod
    def bundled() -> Path | None:
        """The copy faster-whisper ships, if it is installed."""
        spec = importlib.util.find_spec("faster_whisper")
        if spec is None or spec.origin is None:
            return None
        path = Path(spec.origin).parent / "assets" / "silero_vad_v6.onnx"
        return path if path.is_file() else None

    def detector(self, threshold: float = 0.5) -> SileroActivity:
        return SileroActivity(self, threshold)

    def run(
        self, window: npt.NDArray[np.float32], state: tuple[npt.NDArray[np.float32], ...]
    ) -> tuple[float, tuple[npt.NDArray[np.float32], ...]]:
        h, c = state
        prob, h, c = self._session.run(None, {"input": window[None, :], "h": h, "c": c})
        return float(prob[0]), (h, c)


class SileroActivity:
    """One call's Silero detector: its own LSTM state and audio context.

    Speech starts when a window's probability passes ``threshold`` and lasts until one
    falls under ``threshold - 0.15`` (Silero's own hysteresis); each frame gets the state
    of the last complete window.
    """

    def __init__(self, model: SileroModel, threshold: float = 0.5) -> None:
        self._model = model
        self._on, self._off = threshold, max(0.01, threshold - 0.15)
        self._state: tuple[npt.NDArray[np.float32], ...] = (
            np.zeros((1, 1, 128), np.float32),
            np.zeros((1, 1, 128), np.float32),
        )
        self._pending = np.zeros(SileroModel.CONTEXT, np.float32)  # context + samples not yet run
        self._last = 0.0  # the previous frame's last sample, to interpolate across frames
        self._speech = False

    def is_speech(self, frame: bytes) -> bool:
        x = np.frombuffer(_frame(frame), np.int16).astype(np.float32) / 32768.0
        # 8 -> 16 kHz: each sample, preceded by the midpoint from the one before
        up = np.empty(x.size * 2, np.float32)
        up[1::2] = x
        up[0::2] = (np.concatenate(([self._last], x[:-1])) + x) / 2
        self._last = float(x[-1])
        self._pending = np.concatenate((self._pending, up))
        size = SileroModel.CONTEXT + SileroModel.WINDOW
        while self._pending.size >= size:
            p, self._state = self._model.run(self._pending[:size], self._state)
            self._pending = self._pending[SileroModel.WINDOW :]
            self._speech = p >= self._on if not self._speech else p >= self._off
        return self._speech

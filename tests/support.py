"""Helpers shared by tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from voicebot.calls.context import CallContext
from voicebot.calls.ears import Ears
from voicebot.media.stream import AudioIn, HangupIn, MediaStream


async def media_reader(stream: MediaStream, ears: Ears, context: CallContext) -> None:
    """The session's media reader, reduced to what ears tests need."""
    async for event in stream.events():
        if isinstance(event, AudioIn):
            context.heard += event.pcm
            ears.hear(event.pcm, event.at)
        elif isinstance(event, HangupIn):
            ears.hangup(event.at)


async def no_journal(kind: str, **data: object) -> None:
    pass


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it when the test process dies, however it dies."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@contextlib.contextmanager
def owned_process(args: list[str], **popen: Any) -> Iterator[subprocess.Popen[str]]:
    """A server process that lives exactly as long as the block: its whole process group is
    stopped when the block ends (TERM, then KILL after 10 s), and it is killed if the test
    process itself dies first."""
    proc = subprocess.Popen(args, start_new_session=True, preexec_fn=_die_with_parent, text=True, **popen)
    try:
        yield proc
    finally:
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever it left behind in its group


class Clock:
    """A settable "now" for stores and dialers: tests move time instead of waiting."""

    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, local: datetime) -> None:
        self.now = local.astimezone(UTC)


def best_match(recording: bytes, reference: bytes) -> float:
    """How exactly ``reference`` (16-bit PCM) appears somewhere in ``recording``: the highest
    normalized cross-correlation over every offset, 1.0 for an exact (scaled) copy, near 0 for
    unrelated audio. G.711 and the PBX's mixing leave a copy above 0.8."""
    import numpy as np

    x = np.frombuffer(recording, "<i2").astype(np.float64)
    r = np.frombuffer(reference, "<i2").astype(np.float64)
    n = len(r)
    if n == 0 or len(x) < n or not r.any():
        return 0.0
    size = 1 << (len(x) + n - 1).bit_length()
    numerators = np.fft.irfft(np.fft.rfft(x, size) * np.conj(np.fft.rfft(r, size)), size)[: len(x) - n + 1]
    windows = np.concatenate(([0.0], np.cumsum(x * x)))
    energies = windows[n:] - windows[: len(x) - n + 1]
    norms = np.sqrt(np.maximum(energies, 1e-9)) * np.linalg.norm(r)
    return float(np.max(numerators / norms))


def matches_by_second(recording: bytes, reference: bytes, rate: int = 8000) -> list[float]:
    """``best_match`` of each whole second of ``reference`` in ``recording``: a copy that went
    through a PBX (G.711, a frame slipped here and there) keeps most seconds above 0.7; other
    speech in the same voice stays under 0.4."""
    step = rate * 2
    return [best_match(recording, reference[i : i + step]) for i in range(0, len(reference) - step + 1, step)]


def voicebot_on(db_url: str, data_dir: Any) -> Any:
    """``voicebot ARGS...`` as a separate process on this database and data directory, with none
    of the developer's VOICEBOT_* settings: a function of the arguments, the finished process."""
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEBOT_")}
    env.update(VOICEBOT_DATA_DIR=str(data_dir), VOICEBOT_DATABASE_URL=db_url)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "voicebot", *args], capture_output=True, text=True, timeout=60, env=env
        )

    return run

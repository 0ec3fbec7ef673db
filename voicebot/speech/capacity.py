"""How many conversations one worker holds at once within its latency target. Pure.

A worker that takes more calls than its recognizer can serve answers every callee
late: the latency of a turn grows with the calls sharing the cores, not with the
call. So each worker has a capacity, configured (``[speech] capacity``) or taken
from what ``bench/conversations.py`` measured per core for its engine, and the
dialer never has more calls up than that.

The latency targets (``bench/conversations.py``): from the callee's last speech to
the bot's first audio, p95 at or under 1.0 s with Whisper (trailing silence
included), at or under the trailing silence + 0.2 s with vosk.
"""

from __future__ import annotations

#: Conversations per core that met the latency target in bench/conversations.py
#: (2-core machine, lab Asterisk on the same machine): whisper tiny.en, the vosk model
#: that installs here (Korean, a large graph), and turn timing without recognition.
PER_CORE: dict[str, int] = {"whisper": 4, "vosk": 4, "none": 25}


def capacity(engine: str, cores: int, configured: int | None = None) -> int:
    """The conversations a worker with ``cores`` cores and this speech engine holds at once."""
    if configured is not None:
        return configured
    return max(1, PER_CORE[engine] * max(1, cores))

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

#: Conversations per core within the latency target, from bench/conversations.py on a
#: 2-core machine with the lab Asterisk beside it. Whisper tiny.en (with Silero VAD, which the
#: whisper extra brings): 2 calls met it (p95 0.86 s), 4 missed it (1.08 s), so 1 per core. The
#: vosk model that installs here (Korean, a large graph) meets it alone in some runs and not in
#: others (p95 0.88-0.98 s against 0.90 s): one call, the least a worker can take. Without
#: recognition the media path holds 100 calls (bench/spine.py).
PER_CORE: dict[str, float] = {"whisper": 1.0, "vosk": 0.5, "none": 25.0}


def capacity(engine: str, cores: int, configured: int | None = None) -> int:
    """The conversations a worker with ``cores`` cores and this speech engine holds at once."""
    if configured is not None:
        return configured
    return max(1, int(PER_CORE[engine] * max(1, cores)))

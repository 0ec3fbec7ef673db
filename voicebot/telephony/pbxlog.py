"""Why Asterisk refused a call, from its own log: a channel it created and tore down before
anything reached the trunk (no free RTP port, a module missing) is reported over AMI only as
cause 0 "Unknown"; the reason is in Asterisk's log, on the lines of the thread that failed.

Parsing is pure; reading is bounded to the log's last ``TAIL_BYTES``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

TAIL_BYTES = 512 * 1024
#: Lines of the failing thread looked at before the one that names the channel.
LOOKBACK = 12

_LINE = re.compile(
    r"^\[(?P<time>[^\]]+)\] (?P<level>ERROR|WARNING)\[(?P<thread>\d+)\](?:\[[^\]]*\])? "
    r"(?P<source>[\w.-]+): (?P<text>.*)$"
)
_NOISE = ("This is probably a bug",)  # Asterisk's own asides while it cleans up


def refusal_reasons(lines: Sequence[str], channel: str) -> list[str]:
    """Asterisk's errors about ``channel``: the last error line naming it, preceded by the
    errors its thread logged just before (the cause comes first: "couldn't allocate a port
    for RTP", then "Unable to create RTP instance", then the line naming the channel)."""
    if not channel:
        return []
    for index in range(len(lines) - 1, -1, -1):
        named = _LINE.match(lines[index])
        if named is None or not re.search(rf"{re.escape(channel)}\b", named["text"]):
            continue
        reasons = [named["text"].strip()]
        for earlier in reversed(lines[max(0, index - LOOKBACK) : index]):
            match = _LINE.match(earlier)
            if match is None or match["thread"] != named["thread"]:
                continue
            if match["time"] != named["time"]:
                break
            if not any(noise in match["text"] for noise in _NOISE):
                reasons.insert(0, match["text"].strip())
        return reasons
    return []


def read_tail(path: Path, limit: int = TAIL_BYTES) -> list[str]:
    """The last ``limit`` bytes of a log, as whole lines (none if it cannot be read)."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, 2)
            f.seek(max(0, size - limit))
            data = f.read(limit)
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[1:] if size > limit else lines  # the first may be cut


def why_refused(log: Path, channel: str) -> list[str]:
    return refusal_reasons(read_tail(log), channel)

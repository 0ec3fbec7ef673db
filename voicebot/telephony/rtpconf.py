"""How many calls Asterisk's RTP port range holds (rtp.conf). Pure.

Each RTP session takes an even port for RTP and the odd one above it for RTCP, so the range
rtpstart–rtpend holds one session per even port in it. A bot call over a SIP trunk takes one
session; after a warm transfer to an agent's SIP phone the agent's leg takes another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Asterisk's defaults when rtp.conf does not set them.
DEFAULT_START, DEFAULT_END = 5000, 31000
#: RTP sessions one bot call may hold: the callee's leg, and an agent's after a transfer.
SESSIONS_PER_CALL = 2

_SETTING = re.compile(r"^\s*(rtpstart|rtpend)\s*=>?\s*(\d+)\s*(;.*)?$")
_SECTION = re.compile(r"^\s*\[([^\]]+)\]")


@dataclass(frozen=True, slots=True)
class RtpRange:
    start: int = DEFAULT_START
    end: int = DEFAULT_END

    @property
    def sessions(self) -> int:
        first = self.start + self.start % 2
        return 0 if self.end < first else (self.end - first) // 2 + 1

    def ports_for(self, sessions: int) -> int:
        """The rtpend that makes this range hold ``sessions`` sessions."""
        return self.start + self.start % 2 + 2 * sessions - 1


def parse_rtp_conf(text: str) -> RtpRange:
    """rtpstart and rtpend from the [general] section (Asterisk's defaults where unset)."""
    values: dict[str, int] = {}
    section = ""
    for line in text.splitlines():
        if heading := _SECTION.match(line):
            section = heading[1].strip()
        elif section == "general" and (setting := _SETTING.match(line)):
            values[setting[1]] = int(setting[2])
    return RtpRange(values.get("rtpstart", DEFAULT_START), values.get("rtpend", DEFAULT_END))

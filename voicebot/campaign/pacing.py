"""How fast and how many calls the dialer may place, beyond the configured limits. Pure but
for the pacer's sleep.

``Pacer`` spaces a campaign's starts. ``PbxCeiling`` learns how many calls the PBX itself
holds: when Asterisk tears a call down before it reaches the trunk (``pbx_error``: no free
RTP port, a channel limit), the calls up at that moment are all it can hold, and dialing
more only burns leads. The worker stays at that ceiling for ``hold`` seconds, then tries its
configured limit again (a refusal then sets a new ceiling).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass


class Pacer:
    """At most ``rate`` starts per second, evenly spaced."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self._clock = clock
        self._next = 0.0

    async def wait(self) -> None:
        now = self._clock()
        start = max(now, self._next)
        self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


@dataclass
class PbxCeiling:
    hold: float = 600.0
    limit: int | None = None  # calls the PBX held when it last refused one
    until: float = 0.0

    def refused(self, up: int, now: float) -> str:
        """The PBX refused a call while ``up`` others were up; the reason, for logs and audit."""
        ceiling = max(1, up)
        self.limit = ceiling if self.limit is None else min(self.limit, ceiling)
        self.until = now + self.hold
        return (
            f"the PBX refused a call with {up} up (pbx_error, see the call's error): "
            f"at most {self.limit} calls for {self.hold / 60:.0f} min"
        )

    def allowed(self, now: float) -> int | None:
        """Calls this worker may have up by the PBX's measure; None: no ceiling (any more)."""
        if self.limit is not None and now >= self.until:
            self.limit = None
        return self.limit

    def held(self) -> str:
        return f"at the PBX's ceiling: {self.limit} calls (it refused more: pbx_error)"

"""Whether a trunk is refusing calls, from the last attempts over it. Pure.

A carrier that answers every INVITE with 403 (credit used up, caller id not allowed) or 503
(the trunk is down) would otherwise burn a lead per call, for hours. After ``threshold``
attempts in a row that the trunk itself refused (``rejected``, ``trunk_error``), the trunk is
paused: no campaign dials over it for ``first_pause`` seconds; then one probe call goes out;
another refusal doubles the pause (up to ``max_pause``), anything the callee's side decides
(answered, busy, no answer ...) ends the pause. This is a circuit breaker in the sense of
Nygard's "Release It!", with half-open probes.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Dispositions that are the trunk's doing, not the callee's.
REFUSED = frozenset({"rejected", "trunk_error"})


@dataclass
class TrunkHealth:
    name: str
    threshold: int = 5
    first_pause: float = 60.0
    max_pause: float = 600.0
    refusals: int = 0  # attempts in a row the trunk refused
    last: str = ""  # how it refused the last time ("403 Forbidden")
    paused_until: float | None = None
    pause: float = 0.0
    probing: bool = False  # a probe call is out: no other call until it ends

    def record(self, disposition: str, response: str | None, now: float) -> str | None:
        """Fold one attempt's end in; the reason when this attempt paused the trunk."""
        self.probing = False
        if disposition not in REFUSED:
            self.refusals, self.paused_until, self.pause = 0, None, 0.0
            return None
        self.refusals += 1
        self.last = response or disposition
        if self.refusals < self.threshold:
            return None
        self.pause = min(self.max_pause, self.pause * 2 if self.pause else self.first_pause)
        self.paused_until = now + self.pause
        return (
            f"trunk {self.name or '(default)'} refused {self.refusals} calls in a row ({self.last}): "
            f"paused {self.pause:.0f} s"
        )

    def allowed(self, now: float) -> int | None:
        """How many new calls the trunk may take now: 0 while paused or a probe is out, 1 for a
        probe once the pause is over; None: no limit from its health."""
        if self.paused_until is None:
            return None
        if now < self.paused_until or self.probing:
            return 0
        return 1

    def started(self) -> None:
        """A call went out over it; while paused, that call is the probe."""
        if self.paused_until is not None:
            self.probing = True

    def held(self, now: float) -> str | None:
        """Why the trunk takes no call now, or None."""
        if self.allowed(now) != 0:
            return None
        what = f"trunk {self.name or '(default)'} refusing ({self.last})"
        if self.probing:
            return f"{what}: a probe call is out"
        assert self.paused_until is not None
        return f"{what}: paused {self.paused_until - now:.0f} s more"

"""Which calls the inspectors listen to: the sampling policy. Pure.

The rulebooks ask for at least 25 calls a week and 100 a month to be inspected when that many
exist. Each week of a campaign the queue takes every call the automatic inspection failed,
every sign-up (an agent's sale), and then a sample of the others up to the week's quota,
stratified by grade and outcome (each kind of call in proportion, every kind at least once
while the quota allows), chosen in an order fixed by the call id (filling the queue twice
picks the same calls).
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candidate:
    call_id: str
    grade: str | None
    outcome: str | None
    flagged: bool = False  # failed its automatic inspection
    signup: bool = False  # an agent recorded a sale


@dataclass(frozen=True, slots=True)
class SamplingPolicy:
    per_week: int = 25
    per_month: int = 100
    flagged: bool = True
    signups: bool = True

    @property
    def weekly_quota(self) -> int:
        """The sample a week needs for both minimums (a month has at least four weeks)."""
        return max(self.per_week, math.ceil(self.per_month / 4))


def sample(
    candidates: Sequence[Candidate], policy: SamplingPolicy, *, queued: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """(call id, reason) for the calls to queue this week: "flagged", "signup" or "sample";
    ``queued`` calls (already in the queue) count toward the quota and are not returned again."""
    already = set(queued)
    chosen: list[tuple[str, str]] = []
    for c in candidates:
        if c.call_id in already:
            continue
        if policy.flagged and c.flagged:
            chosen.append((c.call_id, "flagged"))
        elif policy.signups and c.signup:
            chosen.append((c.call_id, "signup"))
    taken = already | {call_id for call_id, _ in chosen}
    room = policy.weekly_quota - len(taken & {c.call_id for c in candidates})
    rest = [c for c in candidates if c.call_id not in taken]
    return chosen + [(call_id, "sample") for call_id in stratified(rest, room)]


def stratified(candidates: Sequence[Candidate], n: int) -> list[str]:
    """``n`` call ids spread over the strata (grade, outcome) in proportion to their sizes."""
    if n <= 0 or not candidates:
        return []
    strata: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for c in candidates:
        strata[(c.grade or "-", c.outcome or "-")].append(c)
    for members in strata.values():
        members.sort(key=lambda c: hashlib.sha256(c.call_id.encode()).hexdigest())
    n = min(n, len(candidates))
    total = len(candidates)
    # every stratum once while n allows (the largest first), then the rest in proportion
    order = sorted(strata, key=lambda k: (-len(strata[k]), k))
    share = {k: 0 for k in order}
    for k in order[:n]:
        share[k] = 1
    left = n - sum(share.values())
    if left > 0:
        ideal = {k: len(strata[k]) * n / total for k in order}
        extra = {k: max(0, min(len(strata[k]) - share[k], math.floor(ideal[k]) - share[k])) for k in order}
        for k in order:
            take = min(extra[k], left)
            share[k] += take
            left -= take
        for k in sorted(order, key=lambda k: (-(ideal[k] - math.floor(ideal[k])), k)):
            if left <= 0:
                break
            if share[k] < len(strata[k]):
                share[k] += 1
                left -= 1
        for k in order:  # strata too small for their share leave room to the others
            while left > 0 and share[k] < len(strata[k]):
                share[k] += 1
                left -= 1
    return [c.call_id for k in order for c in strata[k][: share[k]]]

"""What happens to a lead after an attempt: done, blocked, or tried again when. Pure.

Answered calls are not retried unless the callee asked for a callback; an
opt-out blocks the number for good; the other outcomes wait the campaign's delay
for that outcome (or end the lead when the campaign does not retry it). The dial
rules (window, caps) still apply when the retry time comes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from voicebot.campaign.rules import Decision, Skip


class LeadStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt (next_at)
    DIALING = "dialing"  # an attempt is in flight
    DONE = "done"  # reached; nothing more to do
    DO_NOT_CALL = "dnc"  # the number is on a do-not-call list
    EXHAUSTED = "exhausted"  # attempt cap or retries used up
    EXPIRED = "expired"  # no calling time left (campaign ended)
    NO_CONSENT = "no_consent"  # waits for a consent record (an import that brings one)
    AGENT = "agent"  # an agent follows it up (their callback): the robot does not dial it


FINAL = frozenset({LeadStatus.DONE, LeadStatus.DO_NOT_CALL, LeadStatus.EXHAUSTED, LeadStatus.EXPIRED})


@dataclass(frozen=True, slots=True)
class Next:
    status: LeadStatus
    at: datetime | None = None  # when to try again (UTC), for PENDING
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    delays: Mapping[str, timedelta | None] = field(default_factory=dict)
    callback_default: timedelta = timedelta(days=1)

    def after(
        self,
        disposition: str,
        now: datetime,
        *,
        opted_out: bool = False,
        callback_at: datetime | None = None,
        callback_requested: bool = False,
    ) -> Next:
        """The lead's next state after an attempt that ended at ``now`` with ``disposition``."""
        if opted_out:
            return Next(LeadStatus.DO_NOT_CALL, reason="opted out")
        if callback_requested:
            return Next(LeadStatus.PENDING, callback_at or now + self.callback_default, "callback requested")
        if disposition == "answered":
            return Next(LeadStatus.DONE, reason="answered")
        delay = self.delays.get(disposition)
        if delay is None:
            return Next(LeadStatus.DONE, reason=f"{disposition}, not retried")
        return Next(LeadStatus.PENDING, now + delay, f"{disposition}, retry in {_human(delay)}")


def _human(delay: timedelta) -> str:
    seconds = int(delay.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def after_skip(decision: Decision) -> Next:
    """Where a lead the rules did not let through goes: wait for ``retry_at``, or stop."""
    reason = decision.reason
    if reason is Skip.DO_NOT_CALL:
        return Next(LeadStatus.DO_NOT_CALL, reason=str(reason))
    if reason is Skip.NO_CONSENT:
        return Next(LeadStatus.NO_CONSENT, reason=str(reason))
    if decision.retry_at is not None:
        return Next(LeadStatus.PENDING, decision.retry_at, str(reason))
    if reason is Skip.CAP_REACHED:
        return Next(LeadStatus.EXHAUSTED, reason=str(reason))
    return Next(LeadStatus.EXPIRED, reason=str(reason))  # the window never opens again

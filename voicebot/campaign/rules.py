"""Dial-time rules: may this number be called now, and if not, why and when. Pure.

The seed rulebooks: calls need the customer's consent, a refusal stops all further
calls, calling is on weekdays 09:00-18:00 in the callee's time zone and never on
holidays, and a number is not called repeatedly in a short time. Every decision
says why, so it can be audited.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)


class Skip(enum.StrEnum):
    NO_CONSENT = "no consent"
    DO_NOT_CALL = "do-not-call"
    OUTSIDE_WINDOW = "outside calling window"
    HOLIDAY = "holiday"
    CAMPAIGN_ENDED = "campaign ended"
    CAP_REACHED = "attempt cap reached"
    TOO_SOON = "minimum interval between attempts"


@dataclass(frozen=True, slots=True)
class CallingWindow:
    """Weekly calling hours, in the callee's local time: one or more ranges a day (the seed
    rulebooks use 08:00-11:00 and 15:00-18:00), each from ``start`` up to, not including, ``end``."""

    days: tuple[int, ...] = MONDAY_TO_FRIDAY  # Monday = 0
    ranges: tuple[tuple[time, time], ...] = ((time(9, 0), time(18, 0)),)
    holidays: frozenset[date] = frozenset()
    ends_on: date | None = None  # the campaign's last day

    def check(self, local: datetime) -> Skip | None:
        if self.ends_on is not None and local.date() > self.ends_on:
            return Skip.CAMPAIGN_ENDED
        if local.date() in self.holidays:
            return Skip.HOLIDAY
        now = local.time()
        if local.weekday() not in self.days or not any(start <= now < end for start, end in self.ranges):
            return Skip.OUTSIDE_WINDOW
        return None

    def next_open(self, local: datetime) -> datetime | None:
        """The first moment at or after ``local`` when calling is allowed (None: never again)."""
        day = local
        ranges = sorted(self.ranges)
        for _ in range(370):
            if self.ends_on is not None and day.date() > self.ends_on:
                return None
            if day.weekday() in self.days and day.date() not in self.holidays:
                for start, end in ranges:
                    opening = datetime.combine(day.date(), start, day.tzinfo)
                    closing = datetime.combine(day.date(), end, day.tzinfo)
                    candidate = max(local, opening)
                    if candidate < closing:
                        return candidate
            day = (day + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return None


@dataclass(frozen=True, slots=True)
class AttemptLimits:
    """Caps per number; None means no cap. "One call per number per N days" is min_interval=N days."""

    per_day: int | None = 2
    per_24h: int | None = None
    #: Attempts of one lead in its campaign (the others count every attempt to the number).
    per_lead: int | None = None
    per_7_days: int | None = 5
    lifetime: int | None = 10
    min_interval: timedelta = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Lead:
    number: str
    timezone: str = "Asia/Shanghai"
    consent: bool = False
    attempts: int = 0  # this lead's own attempts in its campaign


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Skip | None = None
    retry_at: datetime | None = None  # when it could next be allowed (UTC), if ever


@dataclass(frozen=True, slots=True)
class Policy:
    window: CallingWindow = CallingWindow()
    limits: AttemptLimits = AttemptLimits()
    require_consent: bool = True
    do_not_call: frozenset[str] = field(default_factory=frozenset)

    def decide(
        self,
        lead: Lead,
        now: datetime,
        attempts: Sequence[datetime],
        do_not_call: Collection[str] = (),
        lifetime_attempts: int | None = None,
    ) -> Decision:
        """May ``lead`` be dialed at ``now`` (aware, any zone), given its earlier ``attempts``?

        ``attempts`` may be only the recent ones (the last 8 days cover every cap but the
        lifetime one) when ``lifetime_attempts`` gives the total.
        """
        total = len(attempts) if lifetime_attempts is None else lifetime_attempts
        first = self._once(lead, now, attempts, do_not_call, total)
        if first.allowed:
            return first
        # the next allowed time must pass every rule, not only the one that said no
        retry_at = first.retry_at
        for _ in range(8):
            if retry_at is None:
                break
            later = self._once(lead, retry_at, attempts, do_not_call, total)
            if later.allowed:
                break
            retry_at = later.retry_at
        return Decision(False, first.reason, retry_at)

    def _once(
        self,
        lead: Lead,
        now: datetime,
        attempts: Sequence[datetime],
        do_not_call: Collection[str],
        total: int,
    ) -> Decision:
        if lead.number in self.do_not_call or lead.number in do_not_call:
            return Decision(False, Skip.DO_NOT_CALL)
        if self.require_consent and not lead.consent:
            return Decision(False, Skip.NO_CONSENT)
        zone = ZoneInfo(lead.timezone)
        local = now.astimezone(zone)
        closed = self.window.check(local)
        if closed is not None:
            reopen = self.window.next_open(local)
            return Decision(False, closed, reopen.astimezone(now.tzinfo) if reopen else None)
        if self.limits.per_lead is not None and lead.attempts >= self.limits.per_lead:
            return Decision(False, Skip.CAP_REACHED)
        capped = self._cap(local, [a.astimezone(zone) for a in attempts], total)
        if capped is None:
            return Decision(True)
        if capped.retry_at is None:
            return capped
        # a cap that lifts later: the first moment it has lifted *and* the window is open
        reopen = self.window.next_open(capped.retry_at.astimezone(zone))
        return Decision(False, capped.reason, reopen.astimezone(now.tzinfo) if reopen else None)

    def _cap(self, local: datetime, attempts: list[datetime], total: int) -> Decision | None:
        limits = self.limits
        if limits.lifetime is not None and total >= limits.lifetime:
            return Decision(False, Skip.CAP_REACHED)
        if attempts:
            last = max(attempts)
            if local - last < limits.min_interval:
                return Decision(False, Skip.TOO_SOON, (last + limits.min_interval).astimezone(local.tzinfo))
        today = [a for a in attempts if a.date() == local.date()]
        if limits.per_day is not None and len(today) >= limits.per_day:
            tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0), local.tzinfo)
            return Decision(False, Skip.CAP_REACHED, tomorrow)
        for cap, span in ((limits.per_24h, timedelta(hours=24)), (limits.per_7_days, timedelta(days=7))):
            recent = sorted(a for a in attempts if local - a < span)
            if cap is not None and len(recent) >= cap:
                return Decision(False, Skip.CAP_REACHED, recent[len(recent) - cap] + span)
        return None

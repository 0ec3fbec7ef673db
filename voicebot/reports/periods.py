"""The windows of the scheduled reports. Pure.

The rulebooks expect a daily report, a weekly one (read on Friday morning) and a monthly one
(by the 5th). Run on any day, each covers the last whole period before it:

- ``daily``: yesterday, by day;
- ``weekly``: the seven days before today, by day (on a Friday: last Friday to Thursday);
- ``monthly``: last calendar month, by ISO week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from voicebot.reports.tables import Period

Schedule = Literal["daily", "weekly", "monthly"]
SCHEDULES: tuple[Schedule, ...] = ("daily", "weekly", "monthly")


@dataclass(frozen=True, slots=True)
class Window:
    first: date
    last: date  # included
    by: Period


def days_label(first: date, last: date) -> str:
    """The days of a report in a file name: 2026-12-01, or 2026-11-25_2026-12-01."""
    return f"{first:%Y-%m-%d}" if first == last else f"{first:%Y-%m-%d}_{last:%Y-%m-%d}"


def window(schedule: Schedule, today: date) -> Window:
    """The days a scheduled report run on ``today`` covers."""
    if schedule == "daily":
        yesterday = today - timedelta(days=1)
        return Window(yesterday, yesterday, "day")
    if schedule == "weekly":
        return Window(today - timedelta(days=7), today - timedelta(days=1), "day")
    last = today.replace(day=1) - timedelta(days=1)
    return Window(last.replace(day=1), last, "week")

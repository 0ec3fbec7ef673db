"""The days the scheduled reports cover (pure)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from voicebot.reports.periods import days_label, window


def test_daily_weekly_monthly_cover_the_last_whole_period():
    friday = date(2026, 12, 4)
    daily = window("daily", friday)
    assert (daily.first, daily.last, daily.by) == (date(2026, 12, 3), date(2026, 12, 3), "day")
    weekly = window("weekly", friday)
    assert (weekly.first, weekly.last, weekly.by) == (date(2026, 11, 27), date(2026, 12, 3), "day")
    monthly = window("monthly", date(2026, 12, 5))
    assert (monthly.first, monthly.last, monthly.by) == (date(2026, 11, 1), date(2026, 11, 30), "week")
    january = window("monthly", date(2027, 1, 1))
    assert (january.first, january.last) == (date(2026, 12, 1), date(2026, 12, 31))
    assert days_label(date(2026, 12, 3), date(2026, 12, 3)) == "2026-12-03"
    assert days_label(weekly.first, weekly.last) == "2026-11-27_2026-12-03"


@given(st.dates(min_value=date(2000, 1, 2), max_value=date(2100, 1, 1)))
def test_every_window_ends_before_the_day_it_is_run(today):
    for schedule in ("daily", "weekly", "monthly"):
        span = window(schedule, today)
        assert span.first <= span.last < today
    assert (today - window("weekly", today).first) == timedelta(days=7)
    month = window("monthly", today)
    assert month.first.day == 1 and (month.last + timedelta(days=1)).day == 1
    assert month.last + timedelta(days=1) <= today.replace(day=1)

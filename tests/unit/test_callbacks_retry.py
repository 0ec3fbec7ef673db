"""Callback times from the callee's words, and what follows each attempt's outcome."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from voicebot.campaign.callbacks import parse_callback
from voicebot.campaign.definition import Campaign
from voicebot.campaign.outcomes import AttemptResult, next_step
from voicebot.campaign.retry import LeadStatus, RetryPolicy, after_skip
from voicebot.campaign.rules import Decision, Skip

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 30, tzinfo=SH)  # a Monday


def local(d, hh, mm=0):
    return datetime(2026, 11, d, hh, mm, tzinfo=SH)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow morning", local(24, 10)),
        ("call me back tomorrow", local(24, 10, 30)),
        ("this evening", local(23, 19)),
        ("in an hour", local(23, 11, 30)),
        ("in 2 hours", local(23, 12, 30)),
        ("in half an hour", local(23, 11)),
        ("after 5", local(23, 17)),
        ("3pm", local(23, 15)),
        ("9am", local(24, 9)),  # 09:00 today has passed
        ("on Monday", local(30, 10, 30)),
        ("friday afternoon", local(27, 15)),
        ("next week", local(30, 10, 30)),
        ("day after tomorrow", local(25, 10, 30)),
        ("明天上午", local(24, 10)),
        ("明天下午三点", local(24, 15)),
        ("下午3点半", local(23, 15, 30)),
        ("下午", local(23, 15)),
        ("过一个小时", local(23, 11, 30)),
        ("半小时后", local(23, 11)),
        ("后天", local(25, 10, 30)),
        ("下周", local(30, 10, 30)),
        ("周三", local(25, 10, 30)),
        ("星期天", local(29, 10, 30)),
        ("十点", local(24, 10)),
    ],
)
def test_callback_phrases(text, expected):
    assert parse_callback(text, NOW) == expected


@pytest.mark.parametrize("text", [None, "", "later", "whenever", "晚点"])
def test_no_time_named(text):
    assert parse_callback(text, NOW) is None


def test_retry_per_outcome():
    policy = RetryPolicy(delays={"busy": timedelta(minutes=10), "no_answer": None})
    now = datetime(2026, 11, 23, 2, tzinfo=UTC)
    assert policy.after("busy", now) == policy.after("busy", now)
    busy = policy.after("busy", now)
    assert (busy.status, busy.at) == (LeadStatus.PENDING, now + timedelta(minutes=10))
    assert policy.after("no_answer", now).status is LeadStatus.DONE  # not retried after it
    assert policy.after("answered", now).status is LeadStatus.DONE
    assert policy.after("answered", now, opted_out=True).status is LeadStatus.DO_NOT_CALL
    back = policy.after("answered", now, callback_requested=True)
    assert (back.status, back.at) == (LeadStatus.PENDING, now + timedelta(days=1))
    at = now + timedelta(hours=3)
    assert policy.after("answered", now, callback_requested=True, callback_at=at).at == at


def test_skips_become_waits_or_ends():
    soon = datetime(2026, 11, 24, 1, tzinfo=UTC)
    assert after_skip(Decision(False, Skip.OUTSIDE_WINDOW, soon)).at == soon
    assert after_skip(Decision(False, Skip.DO_NOT_CALL)).status is LeadStatus.DO_NOT_CALL
    assert after_skip(Decision(False, Skip.NO_CONSENT)).status is LeadStatus.NO_CONSENT
    assert after_skip(Decision(False, Skip.CAP_REACHED)).status is LeadStatus.EXHAUSTED
    assert after_skip(Decision(False, Skip.CAP_REACHED, soon)).status is LeadStatus.PENDING
    assert after_skip(Decision(False, Skip.CAMPAIGN_ENDED)).status is LeadStatus.EXPIRED


CAMPAIGN = Campaign(id="c", holidays=(date(2026, 11, 25),))


def test_callback_moves_into_the_calling_window():
    now = NOW.astimezone(UTC)
    evening = next_step(CAMPAIGN, "Asia/Shanghai", AttemptResult("answered", callback="this evening"), now)
    assert evening.at == local(24, 9).astimezone(UTC)  # 19:00 is outside: the next opening
    sunday = next_step(CAMPAIGN, "", AttemptResult("answered", callback="星期天"), now)
    assert sunday.at == local(30, 9).astimezone(UTC)  # the weekend is closed
    holiday = next_step(CAMPAIGN, "", AttemptResult("answered", callback="周三上午"), now)
    assert holiday.at == local(26, 9).astimezone(UTC)  # Wednesday is a holiday here
    unspecified = next_step(CAMPAIGN, "", AttemptResult("answered", callback="unspecified"), now)
    assert unspecified.at == local(24, 10, 30).astimezone(UTC)  # the default delay, one day
    assert next_step(CAMPAIGN, "", AttemptResult("busy"), now).at == now + timedelta(minutes=10)
    assert next_step(CAMPAIGN, "", AttemptResult("machine"), now).at == now + timedelta(hours=4)

"""Dial-time rules: tables for the cases the rulebooks name, and hypothesis properties that
must hold for any lead, time and history."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from voicebot.campaign.rules import AttemptLimits, CallingWindow, Lead, Policy, Skip

SH = ZoneInfo("Asia/Shanghai")
LEAD = Lead("+8613800138000", "Asia/Shanghai", consent=True)


def at(y, m, d, hh, mm=0, tz=SH):
    return datetime(y, m, d, hh, mm, tzinfo=tz)


def test_weekday_hours_in_the_callees_time_zone():
    policy = Policy()
    assert policy.decide(LEAD, at(2026, 11, 23, 10), []).allowed  # Monday 10:00 Shanghai
    night = policy.decide(LEAD, at(2026, 11, 23, 19), [])
    assert night.reason is Skip.OUTSIDE_WINDOW
    assert night.retry_at == at(2026, 11, 24, 9)
    saturday = policy.decide(LEAD, at(2026, 11, 28, 10), [])
    assert saturday.reason is Skip.OUTSIDE_WINDOW and saturday.retry_at == at(2026, 11, 30, 9)
    # 10:00 in New York is 23:00 in Shanghai: the callee's clock decides
    assert (
        policy.decide(LEAD, datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("America/New_York")), []).reason
        is Skip.OUTSIDE_WINDOW
    )


def test_consent_dnc_holidays_and_end_date():
    policy = Policy(window=CallingWindow(holidays=frozenset({date(2026, 10, 1)}), ends_on=date(2026, 12, 31)))
    assert policy.decide(Lead("+861", consent=False), at(2026, 11, 23, 10), []).reason is Skip.NO_CONSENT
    assert Policy(require_consent=False).decide(Lead("+861"), at(2026, 11, 23, 10), []).allowed
    assert policy.decide(LEAD, at(2026, 11, 23, 10), [], do_not_call={LEAD.number}).reason is Skip.DO_NOT_CALL
    assert policy.decide(LEAD, at(2026, 10, 1, 10), []).reason is Skip.HOLIDAY
    ended = policy.decide(LEAD, at(2027, 1, 4, 10), [])
    assert ended.reason is Skip.CAMPAIGN_ENDED and ended.retry_at is None


def test_attempt_caps_and_interval():
    policy = Policy(
        limits=AttemptLimits(per_day=2, per_7_days=3, lifetime=4, min_interval=timedelta(hours=2))
    )
    now = at(2026, 11, 25, 15)
    assert policy.decide(LEAD, now, [at(2026, 11, 25, 14)]).reason is Skip.TOO_SOON
    assert policy.decide(LEAD, now, [at(2026, 11, 25, 9), at(2026, 11, 25, 11)]).reason is Skip.CAP_REACHED
    week = [at(2026, 11, 20, 10), at(2026, 11, 23, 10), at(2026, 11, 24, 10)]
    capped = policy.decide(LEAD, now, week)
    assert capped.reason is Skip.CAP_REACHED and capped.retry_at == at(2026, 11, 27, 10)
    assert policy.decide(LEAD, now, [at(2026, 1, d, 10) for d in (5, 12, 19, 26)]).reason is Skip.CAP_REACHED
    once_per_3_days = Policy(limits=AttemptLimits(min_interval=timedelta(days=3)))
    assert once_per_3_days.decide(LEAD, now, [at(2026, 11, 23, 10)]).reason is Skip.TOO_SOON
    assert once_per_3_days.decide(LEAD, now, [at(2026, 11, 22, 10)]).allowed


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
zones = st.sampled_from(["Asia/Shanghai", "Asia/Urumqi", "Europe/London", "America/New_York"])


@settings(max_examples=300)
@given(
    now=moments,
    zone=zones,
    consent=st.booleans(),
    dnc=st.booleans(),
    history=st.lists(st.integers(min_value=1, max_value=60 * 24 * 30), max_size=12),
)
def test_properties_never_broken(now, zone, consent, dnc, history):
    policy = Policy(limits=AttemptLimits(per_day=2, per_24h=2, per_7_days=4, lifetime=8))
    lead = Lead("+8613800138000", zone, consent)
    attempts = [now - timedelta(minutes=m) for m in history]
    decision = policy.decide(lead, now, attempts, do_not_call={lead.number} if dnc else set())
    if not decision.allowed:
        return
    local = now.astimezone(ZoneInfo(zone))
    assert not dnc and consent  # never a do-not-call number, never without consent
    assert local.weekday() < 5 and time(9) <= local.time() < time(18)  # never outside the window
    assert len(attempts) < 8  # never over the lifetime cap
    assert sum(now - a < timedelta(hours=24) for a in attempts) < 2  # never over the rolling cap
    assert all(now - a >= timedelta(hours=1) for a in attempts)  # never too soon


@settings(max_examples=200)
@given(now=moments, zone=zones)
def test_retry_time_is_inside_the_window(now, zone):
    decision = Policy().decide(Lead("+86", zone, True), now, [])
    if decision.retry_at is not None:
        assert Policy().decide(Lead("+86", zone, True), decision.retry_at, []).allowed


@settings(max_examples=300)
@given(
    now=moments,
    zone=zones,
    history=st.lists(st.integers(min_value=1, max_value=60 * 24 * 9), max_size=10),
)
def test_a_cap_that_lifts_reopens_inside_the_window_and_within_the_caps(now, zone, history):
    policy = Policy(limits=AttemptLimits(per_day=2, per_24h=3, per_7_days=5, lifetime=None))
    lead = Lead("+8613800138000", zone, True)
    attempts = [now - timedelta(minutes=m) for m in history]
    decision = policy.decide(lead, now, attempts)
    if decision.retry_at is not None:
        assert decision.retry_at > now
        assert policy.decide(lead, decision.retry_at, attempts).allowed


def test_a_lead_cap_apart_from_the_numbers():
    policy = Policy(
        limits=AttemptLimits(per_day=None, per_7_days=None, lifetime=10, per_lead=3, min_interval=timedelta())
    )
    now = at(2026, 11, 23, 10)
    assert policy.decide(Lead(LEAD.number, consent=True, attempts=2), now, []).allowed
    capped = policy.decide(Lead(LEAD.number, consent=True, attempts=3), now, [])
    assert (capped.reason, capped.retry_at) == (Skip.CAP_REACHED, None)  # for good: exhausted


def test_two_ranges_a_day_close_at_midday_and_reopen_in_the_afternoon():
    window = CallingWindow(ranges=((time(15), time(18)), (time(8), time(11))))  # any order
    policy = Policy(window=window, require_consent=False)
    monday = datetime(2026, 11, 23, tzinfo=ZoneInfo("Asia/Shanghai"))
    lead = Lead("+8613800138000")
    assert policy.decide(lead, monday.replace(hour=8), []).allowed
    noon = policy.decide(lead, monday.replace(hour=12), [])
    assert noon.reason is Skip.OUTSIDE_WINDOW and noon.retry_at == monday.replace(hour=15)
    evening = policy.decide(lead, monday.replace(hour=18), [])
    assert evening.retry_at == monday.replace(day=24, hour=8)
    assert policy.decide(lead, monday.replace(hour=10, minute=59), []).allowed
    assert not policy.decide(lead, monday.replace(hour=11), []).allowed  # the end is not included

"""The campaign file an operator keeps in version control: read, checked, turned into rules."""

from datetime import date, time, timedelta

import pytest

from voicebot.campaign.definition import Campaign, load_campaign, parse_duration
from voicebot.errors import ScriptError

FULL = """\
id: broadband-nov
name: Broadband upgrade
script: ../intents/broadband-en
calling_hours: {days: [mon, tue, wed, thu, fri, sat], start: 9:30, end: "17:00"}
holidays: [2026-12-25]
ends_on: 2026-12-31
limits: {per_day: 1, per_7_days: 3, lifetime: 4, min_interval: 3d}
retry: {busy: 15m, no_answer: 2h, congestion: null}
pacing: {max_channels: 30, calls_per_second: 2.5}
amd: message
machine_message: custom/acme-callback
"""


def test_a_full_file(tmp_path):
    (tmp_path / "campaigns").mkdir()
    path = tmp_path / "campaigns" / "nov.yml"
    path.write_text(FULL, encoding="utf-8")
    c = load_campaign(path)
    assert c.script == (tmp_path / "intents" / "broadband-en").resolve()
    policy = c.policy()
    assert policy.window.days == (0, 1, 2, 3, 4, 5)
    assert policy.window.ranges == ((time(9, 30), time(17, 0)),)
    assert policy.window.holidays == {date(2026, 12, 25)} and policy.window.ends_on == date(2026, 12, 31)
    assert policy.limits.min_interval == timedelta(days=3) and policy.limits.per_day == 1
    retry = c.retry_policy()
    assert retry.delays["busy"] == timedelta(minutes=15) and retry.delays["congestion"] is None
    assert retry.delays["machine"] == timedelta(hours=4)  # a default
    # stored as JSON and read back: the same campaign
    assert Campaign.model_validate(c.to_json()) == c


def test_defaults_follow_the_rulebooks(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("id: c\n", encoding="utf-8")
    c = load_campaign(path)
    assert c.require_consent and c.amd == "off"
    w = c.policy().window
    assert (w.days, w.ranges) == ((0, 1, 2, 3, 4), ((time(9), time(18)),))


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("id: c\nlimits:\n  per_day: 0\n", 3, "limits.per_day"),
        ("id: c\ncalling_hours:\n  days: [mon, funday]\n", 3, "'funday' is not a day"),
        ("id: c\nretry: {busy: soon}\n", 2, "'soon' is not a duration"),
        ("id: c\ntimezone: Asia/Nowhere\n", 2, "unknown time zone"),
        ("id: c\namd: message\n", 2, "amd: message needs machine_message"),
        ("id: bad id\n", 1, "id"),
        ("id: c\npacing: {max_channels: 5, speed: 3}\n", 2, "pacing.speed: unknown key"),
        ("id: c\n  bad: [\n", 2, "not valid YAML"),
        ('id: c\ncalling_hours:\n  ranges: ["11:00-08:00"]\n', 3, "must end after it starts"),
        ('id: c\ncalling_hours:\n  ranges: ["8 to 11"]\n', 3, "not a range of hours"),
        ('id: c\ncalling_hours: {start: "09:00", ranges: ["08:00-11:00"]}\n', 2, "not both"),
    ],
)
def test_errors_name_the_line(tmp_path, text, line, message):
    path = tmp_path / "c.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as e:
        load_campaign(path)
    assert e.value.line == line and message in str(e.value), str(e.value)


def test_durations():
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("90s") == parse_duration(90) == timedelta(seconds=90)
    assert parse_duration("7d") == timedelta(days=7)
    for bad in ("", "10", "1 hour", "h1"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_two_ranges_a_day_as_the_rulebooks_write_them(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text(
        'id: c\ncalling_hours:\n  ranges: ["08:00-11:00", {start: "15:00", end: "18:00"}]\n', encoding="utf-8"
    )
    c = load_campaign(path)
    assert c.policy().window.ranges == ((time(8), time(11)), (time(15), time(18)))
    assert Campaign.model_validate(c.to_json()) == c  # as the store keeps it

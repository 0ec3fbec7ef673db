"""The pure rules of callees calling back: where they go, who they are, what their call changes,
and the values sent to the PBX."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from voicebot.calls.inbound import agi_value
from voicebot.calls.live import is_call_id
from voicebot.calls.whisper import whisper_text
from voicebot.campaign.definition import Campaign
from voicebot.campaign.inbound import after_inbound, caller_number, decide
from voicebot.config import load_settings
from voicebot.errors import AgiError, ConfigError
from voicebot.store import CallRecord

SH = ZoneInfo("Asia/Shanghai")


def test_agents_take_inbound_calls_only_on_duty_and_logged_in():
    assert decide(on_duty=True, logged_in=2) == (True, "agents on duty (2 logged in)")
    assert decide(on_duty=True, logged_in=0) == (False, "no agent logged in")
    assert decide(on_duty=True, logged_in=None) == (False, "the agents' queue could not be read")
    assert decide(on_duty=False, logged_in=5) == (False, "outside the agents' hours")


@pytest.mark.parametrize(
    ("caller", "number"),
    [
        ("13800138000", "+8613800138000"),
        ("+8613800138000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("02061234567", "+862061234567"),
        ("", None),
        ("anonymous", None),
        ("12", None),
        ("+999999", None),
    ],
)
def test_the_caller_s_number_becomes_e164_or_none(caller, number):
    assert caller_number(caller, "CN") == number


def record(**fields) -> CallRecord:
    return CallRecord(id="1733212345.67", destination="+8613800138000", direction="inbound", **fields)


def test_a_callback_asked_of_the_bot_lands_in_the_campaign_s_window():
    campaign = Campaign(id="c1", calling_hours={"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00"})
    friday_night = datetime(2026, 11, 27, 20, 0, tzinfo=SH)
    nxt = after_inbound(campaign, "Asia/Shanghai", record(callback="unspecified"), friday_night)
    assert nxt is not None and nxt.status.value == "pending" and nxt.reason == "callback requested"
    # the campaign's default delay is a day: Saturday night, moved to Monday's opening
    assert nxt.at == datetime(2026, 11, 30, 9, 0, tzinfo=SH).astimezone(UTC)
    tomorrow = after_inbound(campaign, "Asia/Shanghai", record(callback="tomorrow at 3 pm"), friday_night)
    assert tomorrow is not None and tomorrow.at == datetime(2026, 11, 30, 9, 0, tzinfo=SH).astimezone(UTC)
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=SH)
    soon = after_inbound(campaign, "Asia/Shanghai", record(callback="tomorrow at 3 pm"), monday)
    assert soon is not None and soon.at == (monday + timedelta(days=1)).replace(hour=15).astimezone(UTC)
    # nothing asked, or an opt-out (the do-not-call list has it already): the lead is not moved
    assert after_inbound(campaign, "Asia/Shanghai", record(outcome="completed"), monday) is None
    assert after_inbound(campaign, "Asia/Shanghai", record(callback="x", opted_out=True), monday) is None


def test_the_agent_hears_that_the_callee_calls_back():
    assert whisper_text(name="Li Lei", grade="B", said="", inbound=True) == (
        "Calling back: Li Lei, grade B. Press 2 to decline."
    )
    assert (
        whisper_text(name="李雷", grade="A", said="", chinese=True, inbound=True)
        == "客户回电李雷，等级A。按2拒接。"
    )
    assert whisper_text(name="", grade=None, said="yes").startswith("Transfer: a caller")


def test_call_ids_are_uuids_or_asterisk_linkedids():
    assert is_call_id("3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e")
    assert is_call_id("1733212345.67") and is_call_id("pbx1-1733212345.67")
    for forged in ("", "1733212345", "1733212345.67;rm", "../x", "a" * 40, "1.2.3", "1733212345.67\n"):
        assert not is_call_id(forged), forged


def test_values_set_on_the_channel_cannot_start_another_command():
    assert agi_value("voicebot-agents") == "voicebot-agents" and agi_value("") == '""'
    assert agi_value("1733212345.67") == "1733212345.67"
    for hostile in ('a" b', "a b", "a\nEXEC System", "x;y", "${SHELL(id)}", "a" * 129):
        with pytest.raises(AgiError):
            agi_value(hostile)


def test_inbound_settings_are_checked():
    settings = load_settings(None, inbound={"agent_hours": {"days": [5, 6], "ranges": ["10:00-16:00"]}})
    assert settings.inbound.agent_hours.days == (5, 6) and settings.inbound.enabled
    with pytest.raises(ConfigError, match="not a time zone"):
        load_settings(None, inbound={"timezone": "Mars/Olympus"})
    with pytest.raises(ConfigError, match=r"inbound\.agent_hours"):
        load_settings(None, inbound={"agent_hours": {"ranges": ["18:00-09:00"]}})

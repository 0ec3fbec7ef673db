"""Which number a campaign's calls show (issue 11): an assigned one, never Anonymous. Pure."""

import re

import pytest

from voicebot.campaign.callerid import caller_id_for
from voicebot.errors import ConfigError


def test_the_campaign_number_or_the_trunk_default_in_e164():
    assert caller_id_for("010 1234 5678", default="", allowed=[], trunk="") == "+861012345678"
    assert caller_id_for(None, default="+861012345678", allowed=[], trunk="t") == "+861012345678"
    allowed = ["+861012345678", "01087654321"]
    assert caller_id_for("+861087654321", default="", allowed=allowed, trunk="t") == "+861087654321"


@pytest.mark.parametrize(
    ("wanted", "default", "allowed", "message"),
    [
        (None, "", [], "no caller id for trunk t: calls would go out as Anonymous"),
        ("", "  ", [], "no caller id"),
        ("12", "", [], "'12' is not a phone number"),
        ("+861099999999", "", ["+861012345678"], "caller id +861099999999 is not assigned to trunk t"),
    ],
)
def test_none_or_a_number_not_assigned_stops_the_campaign(wanted, default, allowed, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        caller_id_for(wanted, default=default, allowed=allowed, trunk="t")
    assert err.value.hint  # says what to set

"""Destinations: phone numbers normalized with phonenumbers, channels passed through."""

import pytest

from voicebot.calls.destination import resolve
from voicebot.errors import NumberFormatError

T = "PJSIP/{number}@trunk"


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("010 6552 9988", "+861065529988"),  # Beijing landline with area code
        ("(021) 6432-1234", "+862164321234"),
    ],
)
def test_chinese_numbers(typed, e164):
    d = resolve(typed, template=T, region="CN")
    assert d.number == e164
    assert d.channel == f"PJSIP/{e164}@trunk"


def test_number_formats():
    assert resolve("13800138000", template=T, number_format="digits").channel == "PJSIP/8613800138000@trunk"
    assert resolve("13800138000", template=T, number_format="national").channel == "PJSIP/13800138000@trunk"
    assert resolve("+1 650 253 0000", template="SIP/{number}", number_format="e164").number == "+16502530000"


@pytest.mark.parametrize("channel", ["PJSIP/100", "Local/play-hello@voicebot-lab/n", "SIP/trunk/555"])
def test_channels_pass_unchanged(channel):
    d = resolve(channel, template=T)
    assert d.channel == channel and d.number is None


@pytest.mark.parametrize("typed", ["12ab", "", "+86 123", "555"])
def test_bad_numbers_say_what_to_do(typed):
    with pytest.raises(NumberFormatError) as err:
        resolve(typed, template=T, region="CN")
    assert err.value.hint and ("+86" in err.value.hint or "+<country>" in err.value.hint)

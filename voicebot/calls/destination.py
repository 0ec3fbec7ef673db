"""Where to call: a phone number (normalized with phonenumbers) or a channel string. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from voicebot.errors import NumberFormatError

_CHANNEL = re.compile(r"^[A-Za-z][A-Za-z0-9_]*/\S+$")
_FORMATS = {
    "e164": lambda n: phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164),
    "digits": lambda n: phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)[1:],
    "national": lambda n: re.sub(
        r"\D", "", phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.NATIONAL)
    ),
}


@dataclass(frozen=True, slots=True)
class Destination:
    channel: str  # what Originate dials
    number: str | None  # E.164, when the destination was a phone number


def resolve(
    destination: str, *, template: str, number_format: str = "e164", region: str = "CN"
) -> Destination:
    """Turn what the user typed into a dial string.

    ``PJSIP/100`` or ``Local/x@ctx/n`` are channels and pass unchanged; anything
    else must parse as a phone number in ``region`` (or with a leading +).
    """
    text = destination.strip()
    if _CHANNEL.match(text):
        return Destination(channel=text, number=None)
    cleaned = re.sub(r"[\s\-().]", "", text)
    try:
        parsed = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException as e:
        raise NumberFormatError(
            f"{destination!r} is not a phone number ({e._msg})",
            hint=f"write it as +<country><number> (e.g. +8613800138000), as a {region} national "
            "number, or give a channel like PJSIP/100",
        ) from e
    if not phonenumbers.is_valid_number(parsed):
        raise NumberFormatError(
            f"{destination!r} is not a valid number in region {region}",
            hint="check the digits, add the country code (+86...), or set VOICEBOT_DIAL__DEFAULT_REGION",
        )
    e164 = _FORMATS["e164"](parsed)
    try:
        number = _FORMATS[number_format](parsed)
    except KeyError as e:
        raise NumberFormatError(
            f"unknown number format {number_format!r}", hint="use e164, national or digits"
        ) from e
    return Destination(channel=template.format(number=number), number=e164)

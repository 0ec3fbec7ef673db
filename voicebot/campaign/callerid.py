"""Which number a campaign's calls show. Pure.

The rulebooks ask that outbound calls show only the company's own assigned numbers, and
carriers reject INVITEs from Anonymous. A campaign's calls show its ``caller_id``, or the
trunk's default; the number must be one the trunk was assigned (``caller_ids`` in the
settings, when given). With none, the campaign does not dial: the dialer pauses it with
this error, and ``voicebot doctor`` names it.
"""

from __future__ import annotations

from collections.abc import Sequence

import phonenumbers

from voicebot.errors import ConfigError


def caller_id_for(
    wanted: str | None, *, default: str, allowed: Sequence[str], trunk: str, region: str = "CN"
) -> str:
    """The number to show (E.164), or ConfigError saying what to set."""
    where = f"[trunks.{trunk}]" if trunk else "[dial]"
    chosen = (wanted or default).strip()
    if not chosen:
        raise ConfigError(
            f"no caller id for trunk {trunk or '(default)'}: calls would go out as Anonymous",
            hint=f"set caller_id in the campaign file, or caller_id in {where}, to a number assigned to you",
        )
    number = _e164(chosen, region)
    if number is None:
        raise ConfigError(f"caller id {chosen!r} is not a phone number", hint="write it like +861012345678")
    if allowed and number not in {_e164(n, region) for n in allowed}:
        raise ConfigError(
            f"caller id {number} is not assigned to trunk {trunk or '(default)'}",
            hint=f"use one of {', '.join(allowed)}, or add it to caller_ids in {where}",
        )
    return number


def _e164(text: str, region: str) -> str | None:
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

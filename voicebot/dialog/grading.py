"""Lead grades, A to F, from what happened on the call. Pure.

The default scale is the industry's: A clear intent, B possible intent, C refused
or no interest, D busy / call later, E not connected, F invalid or wrong person.
"""

from __future__ import annotations

from collections.abc import Iterable

CLEAR = frozenset({"transferred"})
POSSIBLE_INTENTS = frozenset(
    {"interested", "ask_price", "send_info", "need_to_think", "faq_speed", "faq_contract", "ask_human"}
)
REFUSED_OUTCOMES = frozenset({"opted_out"})
REFUSAL_INTENTS = frozenset({"not_interested", "opt_out"})
LATER = frozenset({"callback"})
INVALID = frozenset({"wrong_person", "invalid"})


def grade(*, connected: bool, outcome: str | None, intents: Iterable[str]) -> str:
    """A-F for one call. ``connected``: the callee answered and the script ran."""
    said = set(intents)
    if not connected:
        return "F" if outcome in INVALID else "E"
    if outcome in INVALID or said & INVALID:
        return "F"
    if outcome in CLEAR:
        return "A"
    if outcome in LATER:
        return "D"
    if outcome in REFUSED_OUTCOMES:
        return "C"
    if said & POSSIBLE_INTENTS and outcome in {"send_info", "completed", None}:
        return "B" if not said & REFUSAL_INTENTS or "interested" in said else "C"
    if said & REFUSAL_INTENTS:
        return "C"
    return "C" if said else "E"

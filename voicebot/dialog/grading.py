"""Lead grades, A to F, from what happened on the call. Pure.

The default scale is the industry's: A clear intent, B possible intent, C refused
or no interest, D busy / call later, E not connected, F invalid or wrong person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from voicebot.dialog.flow import GradeRule

CLEAR = frozenset({"transferred"})
POSSIBLE_INTENTS = frozenset(
    {"interested", "ask_price", "send_info", "need_to_think", "faq_speed", "faq_contract", "ask_human"}
)
REFUSED_OUTCOMES = frozenset({"opted_out"})
REFUSAL_INTENTS = frozenset({"not_interested", "opt_out"})
LATER = frozenset({"callback"})
INVALID = frozenset({"wrong_person", "invalid"})


def grade_by_rules(
    rules: Sequence[GradeRule],
    *,
    connected: bool,
    outcome: str | None,
    intents: Sequence[str],
    path: Sequence[str] = (),
    turns: int = 0,
    seconds: float = 0.0,
) -> str:
    """The first rule whose conditions all hold, else the default scale (``grade``)."""
    if connected:
        said, counts = set(intents), Counter(intents)
        for rule in rules:
            if rule.outcome and outcome not in rule.outcome:
                continue
            if rule.intents_any and not said & set(rule.intents_any):
                continue
            if rule.intents_all and not set(rule.intents_all) <= said:
                continue
            if said & set(rule.intents_none):
                continue
            if any(counts[name] < n for name, n in rule.min_count.items()):
                continue
            if rule.reached and not set(path) & set(rule.reached):
                continue
            if rule.min_turns is not None and turns < rule.min_turns:
                continue
            if rule.min_seconds is not None and seconds < rule.min_seconds:
                continue
            return rule.grade
    return grade(connected=connected, outcome=outcome, intents=intents)


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

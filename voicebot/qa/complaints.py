"""Complaints: their workflow, due times and escalation. Pure.

A complaint is received, investigated, answered and closed; a high or critical one is escalated
at once. Each severity has a time to answer it in (the rulebooks say "within the set time":
``[complaints] due_hours``); one not closed by then is overdue. After closing, the complainant's
satisfaction may be recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

CHANNELS = ("phone", "sms", "email", "web", "regulator", "other")
CATEGORIES = ("harassment", "calling_hours", "misleading", "privacy", "rude", "no_consent", "other")
SEVERITIES = ("low", "medium", "high", "critical")
STATES = ("received", "investigating", "answered", "closed")
#: state -> the states a complaint may move to
MOVES: dict[str, frozenset[str]] = {
    "received": frozenset({"investigating", "answered", "closed"}),
    "investigating": frozenset({"answered", "closed"}),
    "answered": frozenset({"investigating", "closed"}),
    "closed": frozenset(),
}
#: Hours to close a complaint in, by severity (``[complaints] due_hours`` overrides them).
DUE_HOURS: Mapping[str, float] = {"low": 72, "medium": 48, "high": 24, "critical": 4}


def due_at(received_at: datetime, severity: str, due_hours: Mapping[str, float] = DUE_HOURS) -> datetime:
    return received_at + timedelta(hours=due_hours[severity])


def escalated(severity: str) -> bool:
    """Serious complaints go to the managers at once."""
    return severity in ("high", "critical")


def overdue(state: str, due: datetime, now: datetime) -> bool:
    return state != "closed" and now > due


def check_move(state: str, to: str) -> str | None:
    """Why a complaint that is ``state`` cannot move ``to`` (None: it can)."""
    if to not in STATES:
        return f"{to!r} is no state (one of {', '.join(STATES)})"
    if to not in MOVES[state]:
        return f"a complaint that is {state} cannot be {to}"
    return None

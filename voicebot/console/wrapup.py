"""An agent's wrap-up of a handed-over call, and what it does to the lead. Pure.

The disposition moves the lead on (a sale or a refusal ends it, a callback schedules
it for the agent or for any agent, "do not call" blocks the number everywhere). The
robot's grade A or B must be confirmed or corrected by the agent: the rulebooks ask a
person to confirm every A and B customer.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from voicebot.campaign.retry import LeadStatus
from voicebot.errors import ConsoleError

GRADES = ("A", "B", "C", "D", "E", "F")
#: The hand-off fields the rulebooks list for a warm customer.
HANDOFF_FIELDS = ("quote", "contact", "address", "phone")
MAX_NOTES = 4000
MAX_FIELD = 200
CALLBACK_HORIZON = timedelta(days=90)


class AgentDisposition(enum.StrEnum):
    SALE = "sale"
    CALLBACK = "callback"
    NOT_INTERESTED = "not_interested"
    WRONG_PERSON = "wrong_person"
    DO_NOT_CALL = "do_not_call"
    NO_CONVERSATION = "no_conversation"  # the callee was gone or silent when the agent came in


@dataclass(frozen=True, slots=True)
class WrapUp:
    disposition: AgentDisposition
    grade: str | None
    notes: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    callback_at: datetime | None = None  # UTC
    callback_mine: bool = True


@dataclass(frozen=True, slots=True)
class LeadChange:
    status: LeadStatus
    next_at: datetime | None
    reason: str
    grade: str | None
    do_not_call: bool = False


def parse(form: Mapping[str, str], *, robot_grade: str | None, zone: str, now: datetime) -> WrapUp:
    """A wrap-up form read and checked; a bad value raises ConsoleError naming the field.

    ``callback_at`` is a local time in the callee's ``zone`` (an HTML datetime-local value).
    """
    try:
        disposition = AgentDisposition(form.get("disposition", ""))
    except ValueError:
        raise ConsoleError("pick a disposition", hint="disposition") from None
    grade = form.get("grade", "").strip().upper() or None
    if grade is not None and grade not in GRADES:
        raise ConsoleError(f"grade {grade!r} is not one of A-F", hint="grade")
    if grade is None and robot_grade in ("A", "B"):
        raise ConsoleError(
            f"the robot graded this lead {robot_grade}: confirm or correct the grade", hint="grade"
        )
    notes = form.get("notes", "").strip()
    if len(notes) > MAX_NOTES:
        raise ConsoleError(f"notes are limited to {MAX_NOTES} characters", hint="notes")
    fields = {}
    for name in HANDOFF_FIELDS:
        value = form.get(name, "").strip()
        if len(value) > MAX_FIELD:
            raise ConsoleError(f"{name} is limited to {MAX_FIELD} characters", hint=name)
        if value:
            fields[name] = value
    callback_at = None
    if disposition is AgentDisposition.CALLBACK:
        callback_at = _local_time(form.get("callback_at", ""), zone)
        if not now < callback_at <= now + CALLBACK_HORIZON:
            raise ConsoleError("a callback needs a time in the next 90 days", hint="callback_at")
    return WrapUp(
        disposition,
        grade or robot_grade,
        notes,
        fields,
        callback_at,
        callback_mine=form.get("callback_for", "me") != "anyone",
    )


def lead_change(w: WrapUp) -> LeadChange:
    """What the wrap-up does to the lead."""
    match w.disposition:
        case AgentDisposition.CALLBACK:
            return LeadChange(LeadStatus.AGENT, w.callback_at, "agent callback", w.grade)
        case AgentDisposition.DO_NOT_CALL:
            return LeadChange(LeadStatus.DO_NOT_CALL, None, "do-not-call (agent)", w.grade, do_not_call=True)
        case AgentDisposition.SALE:
            return LeadChange(LeadStatus.DONE, None, "sale", w.grade)
        case AgentDisposition.NOT_INTERESTED:
            return LeadChange(LeadStatus.DONE, None, "not interested (agent)", w.grade)
        case AgentDisposition.WRONG_PERSON:
            return LeadChange(LeadStatus.DONE, None, "wrong person", w.grade)
        case AgentDisposition.NO_CONVERSATION:
            return LeadChange(LeadStatus.AGENT, None, "agent to follow up", w.grade)


def _local_time(value: str, zone: str) -> datetime:
    try:
        local = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ConsoleError("a callback needs a date and time", hint="callback_at") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(ZoneInfo("UTC"))

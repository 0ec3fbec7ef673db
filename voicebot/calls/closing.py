"""How a call's record is closed: disposition, times, transcript, outcome and grade, from
what the PBX saw (its progress) and what the media session saw (its result). Pure."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from voicebot.calls.recovery import cut_short
from voicebot.calls.session import SessionResult
from voicebot.dialog.grading import grade
from voicebot.telephony.callstate import CallProgress, CallState, Disposition, sip_response


def closing_fields(
    progress: CallProgress,
    session: SessionResult | None,
    *,
    error: str | None,
    machine: bool,
    recording: str | None,
    now: datetime,
) -> tuple[Disposition, dict[str, Any]]:
    """The call's disposition, and the fields that complete its record."""
    ended_at = progress.ended_at
    if progress.vanished and session is not None:
        ended_at = session.ended  # the media side saw the real end
    talk = (ended_at - progress.answered_at) if (ended_at and progress.answered_at) else None
    if error is not None and not progress.ended:
        disposition = Disposition.UNKNOWN if progress.answered_at else Disposition.FAILED
    else:
        disposition = progress.disposition
    if machine and disposition is Disposition.ANSWERED:
        disposition = Disposition.MACHINE
    script = session.script if session is not None else None
    if disposition is Disposition.INTERRUPTED and script is not None and script.outcome is not None:
        disposition = Disposition.ANSWERED  # the PBX went down once the conversation was over
    fields: dict[str, Any] = {
        "state": CallState.HUNGUP.value if progress.ended or error else progress.state.value,
        "disposition": disposition.value,
        "hangup_cause": progress.cause,
        "hangup_cause_text": progress.cause_text or None,
        "sip_response": sip_response(progress.sip_status),
        "ended_at": at(ended_at),
        "ring_seconds": rounded(progress.ring_seconds),
        "talk_seconds": rounded(talk),
        "completed_at": now,
    }
    if error:
        fields["error"] = error
    if session is not None:
        fields.update(bot_part(session))
        if session.error and not error:
            fields["error"] = session.error
    if (script is None or script.grade is None) and disposition is not Disposition.ANSWERED:
        fields["grade"] = grade(connected=False, outcome=None, intents=())  # not connected: E
    if progress.cut_by:  # the PBX went down: its doing, never the callee's
        fields["end_reason"] = progress.cut_by
        if disposition is Disposition.INTERRUPTED:
            fields.update(cut_short(progress.cut_by, script.intents if script else ()))
    if recording:
        fields["recording"] = recording
    return disposition, fields


def bot_part(session: SessionResult) -> dict[str, Any]:
    """What the bot's conversation adds to the record: written when it hands the callee to
    an agent (for the agent's screen) and again when the call ends."""
    fields: dict[str, Any] = {
        "end_reason": session.end_reason,
        "bot_audio_seconds": session.bot_audio_seconds,
        "callee_audio_seconds": session.callee_audio_seconds,
        "callee_audio_rms": session.callee_audio_rms,
        "transcript": [dataclasses.asdict(t) for t in session.turns],
    }
    script = session.script
    if script is not None:
        fields.update(
            outcome=script.outcome,
            node_path=script.node_path,
            intents=script.intents,
            opted_out=script.opted_out,
            callback=script.callback,
        )
        if script.grade is not None:
            fields["grade"] = script.grade  # the script's own rules, or the default scale
    return fields


def at(ts: float | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC) if ts is not None else None


def rounded(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None

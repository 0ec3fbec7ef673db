"""Closing a call's record from the PBX's and the media session's views: a table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from voicebot.calls.closing import closing_fields
from voicebot.calls.context import ScriptResult, TurnRecord
from voicebot.calls.session import SessionResult
from voicebot.telephony.callstate import (
    Answered,
    CallProgress,
    HungUp,
    Originated,
    OriginateResult,
    PbxDown,
    Vanished,
)

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)


def fold(*events):
    progress = CallProgress()
    for e in events:
        progress = progress.apply(e)
    return progress


def session(script: ScriptResult | None = None, ended: float = 20.0) -> SessionResult:
    turns = (TurnRecord("callee", "yes I am interested", 5.0, 6.0),)
    return SessionResult("callee-hangup", None, 2.0, ended, 3.0, 1.0, 0.1, turns, script)


TALKED = (Originated(1.0, "c"), Answered(2.0))


@pytest.mark.parametrize(
    ("progress", "result", "machine", "error", "expected"),
    [
        # a callee who hung up: answered, the script's own grade
        (
            fold(*TALKED, HungUp(20.0, 16, "")),
            session(ScriptResult("completed", grade="B")),
            False,
            None,
            {"disposition": "answered", "grade": "B", "end_reason": "callee-hangup", "talk_seconds": 18.0},
        ),
        # the PBX restarted mid-conversation: ours, graded on what was heard
        (
            fold(*TALKED, HungUp(20.0, 0, ""), PbxDown(21.0, "pbx-restart")),
            session(ScriptResult(None, intents=["interested"], grade="E")),
            False,
            None,
            {"disposition": "interrupted", "grade": "B", "end_reason": "pbx-restart"},
        ),
        # ... after the conversation had reached its outcome: it keeps it
        (
            fold(*TALKED, HungUp(20.0, 0, ""), PbxDown(21.0, "pbx-restart")),
            session(ScriptResult("callback", grade="D")),
            False,
            None,
            {"disposition": "answered", "grade": "D", "end_reason": "pbx-restart"},
        ),
        # ended while AMI was down: the media session's end is the real one
        (
            fold(*TALKED, Vanished(60.0)),
            session(ended=12.0),
            False,
            None,
            {"disposition": "answered", "talk_seconds": 10.0},
        ),
        # the dialplan's AMD found a machine
        (fold(*TALKED, HungUp(9.0, 16, "")), None, True, None, {"disposition": "machine", "grade": "E"}),
        # the call failed before anything was known
        (fold(Originated(1.0, "c")), None, False, "AMI gone", {"disposition": "failed", "error": "AMI gone"}),
        (fold(*TALKED), session(), False, "AMI gone", {"disposition": "unknown", "state": "hungup"}),
        # a failed originate
        (
            fold(OriginateResult(3.0, False, 5), HungUp(3.0, 17, "")),
            None,
            False,
            None,
            {"disposition": "busy", "grade": "E", "talk_seconds": None},
        ),
    ],
)
def test_closing_fields(progress, result, machine, error, expected):
    disposition, fields = closing_fields(
        progress, result, error=error, machine=machine, recording="voicebot/x.wav", now=NOW
    )
    assert disposition.value == fields["disposition"]
    assert {k: fields.get(k) for k in expected} == expected
    assert fields["completed_at"] == NOW and fields["recording"] == "voicebot/x.wav"

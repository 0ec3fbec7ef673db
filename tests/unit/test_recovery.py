"""Closing a call its worker's death cut short, from its journal: a table of journals."""

from datetime import UTC, datetime

import pytest

from voicebot.calls.recovery import interrupted, with_cdr
from voicebot.store import CallRecord, EventRecord
from voicebot.telephony.cdr import Cdr

T = datetime(2026, 12, 2, 9, tzinfo=UTC)


def ev(kind: str, **data) -> EventRecord:
    return EventRecord("c", T, kind, data)


ANSWERED = CallRecord(id="c", destination="+8613800001000", answered_at=T)
OPENING = ev("prompt", name="opening", text="Hello, this is Acme.", start=0.0, end=6.0)


def test_an_interested_callee_stays_a_warm_lead():
    fields = interrupted(
        ANSWERED,
        [
            ev("agi", channel="x"),
            OPENING,
            ev("heard", text="Yes, I am interested.", start=7.0, end=8.5),
            ev("understood", intent="interested", confidence=0.9),
        ],
    )
    assert fields["disposition"] == "interrupted" and fields["end_reason"] == "worker-crash"
    assert fields["intents"] == ["interested"] and fields["grade"] == "B"
    assert [(t["speaker"], t["text"]) for t in fields["transcript"]] == [
        ("bot", "Hello, this is Acme."),
        ("callee", "Yes, I am interested."),
    ]


def test_a_callee_who_said_nothing_is_not_graded_as_if_they_had():
    fields = interrupted(ANSWERED, [ev("agi", channel="x"), OPENING])
    assert fields["disposition"] == "interrupted" and fields["grade"] is None


def test_an_opt_out_heard_before_the_crash_stays_an_opt_out():
    fields = interrupted(ANSWERED, [OPENING, ev("understood", intent="opt_out"), ev("opt_out")])
    assert fields["opted_out"] and fields["grade"] == "C"


def test_a_call_already_with_an_agent_was_transferred():
    fields = interrupted(ANSWERED, [OPENING, ev("understood", intent="ask_human"), ev("transfer", queue="q")])
    assert (fields["disposition"], fields["outcome"], fields["grade"]) == ("answered", "transferred", "A")


def test_a_call_never_answered_is_unknown():
    record = CallRecord(id="c", destination="+8613800001000")
    assert interrupted(record, [ev("originate", channel="x")]) == {"disposition": "unknown"}


START = T.timestamp()
TALKED = Cdr("ANSWERED", START, START + 2.5, START + 14.0, 11.5)


def test_the_pbx_record_gives_the_real_times_of_a_call_its_worker_lost():
    fields = with_cdr(interrupted(ANSWERED, [ev("agi", channel="x"), OPENING]), TALKED)
    assert fields["disposition"] == "interrupted" and fields["grade"] is None
    assert fields["talk_seconds"] == 11.5 and fields["ring_seconds"] == 2.5
    assert (fields["answered_at"] - T).total_seconds() == 2.5
    assert (fields["ended_at"] - T).total_seconds() == 14.0


def test_a_call_answered_after_its_worker_died_is_ours_not_the_callees():
    lost = CallRecord(id="c", destination="+8613800001000")
    fields = with_cdr(interrupted(lost, []), TALKED)  # the journal never saw the answer
    assert (fields["disposition"], fields["end_reason"], fields["grade"]) == (
        "interrupted",
        "worker-crash",
        None,
    )


@pytest.mark.parametrize(
    ("cdr_disposition", "expected"),
    [("NO ANSWER", "no_answer"), ("BUSY", "busy"), ("CONGESTION", "congestion"), ("FAILED", "failed")],
)
def test_an_attempt_never_answered_gets_its_real_disposition_not_unknown(cdr_disposition, expected):
    lost = CallRecord(id="c", destination="+8613800003000")
    cdr = Cdr(cdr_disposition, START, None, START + 30.0, 0.0)
    fields = with_cdr(interrupted(lost, []), cdr)
    assert fields["disposition"] == expected
    assert fields["ring_seconds"] == 30.0 and "talk_seconds" not in fields and "end_reason" not in fields

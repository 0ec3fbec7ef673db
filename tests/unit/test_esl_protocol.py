"""The event socket's protocol (pure): recorded bytes in any chunking, bounds, commands that
cannot be split, and the originate line with every value checked."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicebot.errors import EslActionError, EslProtocolError
from voicebot.telephony.callstate import HungUp, OriginateResult
from voicebot.telephony.esl.protocol import (
    EVENT_PLAIN,
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    Parser,
    command,
    event_of,
    sendmsg,
)
from voicebot.telephony.freeswitch import originate_command, originate_result, translate
from voicebot.telephony.pbx import OriginateRequest

RECORDED = (Path(__file__).parents[1] / "fixtures/esl/originate-busy.esl").read_bytes().split(b"\n", 1)[1]


def _whole() -> list:
    return Parser().feed(RECORDED)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=40))
def test_recorded_bytes_parse_the_same_however_they_arrive(cuts):
    parser = Parser()
    got = []
    at = 0
    for size in cuts:
        got += parser.feed(RECORDED[at : at + size])
        at += size
    got += parser.feed(RECORDED[at:])
    assert got == _whole()


def test_events_are_decoded_with_their_own_bodies():
    messages = _whole()
    assert messages[0].content_type == "auth/request"
    events = [event_of(m) for m in messages if m.content_type == EVENT_PLAIN]
    names = [e.name for e in events]
    assert names.count("CHANNEL_CREATE") == 2 and "CHANNEL_HANGUP_COMPLETE" in names
    job = next(e for e in events if e.name == "BACKGROUND_JOB")
    assert job.body.strip() == "-ERR USER_BUSY"
    hangup = next(e for e in events if e.name == "CHANNEL_HANGUP_COMPLETE")
    assert hangup.get("variable_hangup_cause_q850") == "17"
    assert " " in hangup.get("Event-Date-Local")  # "2026-12-04%2019%3A..." decoded
    ended = translate(hangup, hangup.uuid, 5.0)
    assert isinstance(ended, HungUp) and ended.cause == 17 and ended.cause_text == "USER_BUSY"


def test_bounds_are_errors_not_growing_buffers():
    with pytest.raises(EslProtocolError):
        Parser().feed(b"Content-Type: x\n" + b"a" * (MAX_HEADER_BYTES + 10))
    with pytest.raises(EslProtocolError):
        Parser().feed(f"Content-Length: {MAX_BODY_BYTES + 1}\n\n".encode())
    with pytest.raises(EslProtocolError):
        Parser().feed(b"Content-Length: -3\n\n")
    with pytest.raises(EslProtocolError):
        Parser().feed(b"no colon here\n\n")


def test_a_command_cannot_carry_a_second_one():
    assert command("api status") == b"api status\n\n"
    assert sendmsg("u-1", "hangup", {"hangup-cause": "NORMAL_CLEARING"}) == (
        b"sendmsg u-1\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING\n\n"
    )
    with pytest.raises(EslActionError):
        command("api status\n\napi system rm -rf /")
    with pytest.raises(EslActionError):
        sendmsg("u-1", "execute", {"execute-app-arg": "x\n\napi system id"})


CALL = "0c9e8498-157b-4778-b970-b54f14ff3ae1"


def test_the_originate_line_carries_the_call_id_and_checked_values():
    request = OriginateRequest(
        CALL,
        "loopback/8613800001001/voicebot-lab-numbers",
        "voicebot-outbound",
        "bot",
        ring_timeout=25,
        caller_id='"Acme" <+861012345678>',
        variables={"VOICEBOT_CALL_ID": CALL, "VOICEBOT_LEAD": "lead-7"},
    )
    line = originate_command(request)
    assert line.startswith(f"originate {{origination_uuid={CALL},originate_timeout=25,")
    assert "VOICEBOT_LEAD=lead-7" in line and "origination_caller_id_number=+861012345678" in line
    assert line.endswith("}loopback/8613800001001/voicebot-lab-numbers bot XML voicebot-outbound")


@pytest.mark.parametrize(
    "change",
    [
        {"variables": {"VOICEBOT_LEAD": "x,execute_on_answer=system rm"}},
        {"variables": {"VOICEBOT_LEAD": "a b"}},
        {"variables": {"VOICEBOT_LEAD": "}"}},
        {"variables": {"bad name": "1"}},
        {"channel": "loopback/1 &system(id)"},
        {"context": "voicebot-outbound public"},
        {"exten": "bot'"},
        {"call_id": "not a uuid"},
        {"caller_id": "Acme; rm"},
    ],
)
def test_a_value_that_could_change_the_originate_is_refused(change):
    fields = {
        "call_id": CALL,
        "channel": "loopback/busy/voicebot-lab",
        "context": "voicebot-outbound",
        "exten": "bot",
        **change,
    }
    with pytest.raises(EslActionError):
        originate_command(OriginateRequest(**fields))


def test_an_originate_result_reads_as_asterisks_originate_response():
    assert originate_result("+OK " + CALL, 1.0) == OriginateResult(1.0, True, 4)
    assert originate_result("-ERR USER_BUSY", 1.0) == OriginateResult(1.0, False, 5)
    assert originate_result("-ERR NO_ANSWER", 1.0) == OriginateResult(1.0, False, 3)
    assert originate_result("-ERR NORMAL_CIRCUIT_CONGESTION", 1.0) == OriginateResult(1.0, False, 8)
    assert originate_result("-ERR UNALLOCATED_NUMBER", 1.0) == OriginateResult(1.0, False, 0)

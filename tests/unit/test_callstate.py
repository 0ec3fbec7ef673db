"""The call state machine and disposition mapping, as tables."""

import pytest

from voicebot.telephony.callstate import (
    Answered,
    CallProgress,
    CallState,
    Disposition,
    HangupRequested,
    HungUp,
    Originated,
    OriginateResult,
    PbxDown,
    Ringing,
    Vanished,
    disposition,
)


def fold(*events):
    progress = CallProgress()
    for e in events:
        progress = progress.apply(e)
    return progress


@pytest.mark.parametrize(
    ("answered", "reason", "cause", "expected"),
    [
        (True, 4, 16, Disposition.ANSWERED),
        (False, 4, 0, Disposition.ANSWERED),
        (False, 5, 0, Disposition.BUSY),
        (False, 8, 0, Disposition.CONGESTION),
        (False, 3, 19, Disposition.NO_ANSWER),
        (False, 1, 17, Disposition.BUSY),
        (False, 1, 21, Disposition.BUSY),
        (False, 1, 19, Disposition.NO_ANSWER),
        (False, 0, 18, Disposition.NO_ANSWER),
        (False, 0, 34, Disposition.CONGESTION),
        (False, 0, 1, Disposition.INVALID),
        (False, 0, 22, Disposition.INVALID),
        (False, 0, 0, Disposition.FAILED),
        (False, None, 38, Disposition.CONGESTION),
    ],
)
def test_disposition_table(answered, reason, cause, expected):
    assert disposition(answered=answered, reason=reason, cause=cause) is expected


@pytest.mark.parametrize(
    ("status", "reason", "cause", "expected"),
    [
        (486, 5, 17, Disposition.BUSY),
        (600, 1, 17, Disposition.BUSY),
        (403, 5, 21, Disposition.REJECTED),  # before: busy, retried every 10 minutes
        (401, 1, 21, Disposition.REJECTED),
        (407, 1, 21, Disposition.REJECTED),
        (603, 5, 21, Disposition.DECLINED),
        (404, 0, 1, Disposition.INVALID),
        (484, 0, 28, Disposition.INVALID),
        (480, 3, 19, Disposition.NO_ANSWER),
        (503, 8, 34, Disposition.TRUNK_ERROR),  # before: congestion
        (500, 8, 38, Disposition.TRUNK_ERROR),
        (499, 8, 34, Disposition.CONGESTION),  # a response that says nothing more: the cause decides
    ],
)
def test_the_sip_response_says_who_refused(status, reason, cause, expected):
    """The Hangup event's TechCause (the SIP response) wins over the OriginateResponse reason
    and the Q.850 cause (21 is both a trunk's 403 and a callee's 603)."""
    progress = fold(
        Originated(0.0, "PJSIP/carrier-00000001"),
        HungUp(1.0, cause, "x", tech_cause=status),
        OriginateResult(1.1, False, reason),
    )
    assert progress.disposition is expected
    assert progress.sip_status == status


def test_a_sip_response_after_the_answer_changes_nothing():
    progress = fold(Originated(0.0, "c"), Answered(1.0), HungUp(5.0, 16, "x", tech_cause=403))
    assert progress.disposition is Disposition.ANSWERED and progress.sip_status is None


def test_a_local_channel_has_no_sip_response():
    progress = fold(Originated(0.0, "Local/x"), HungUp(1.0, 21, "Call Rejected", tech_cause=0))
    assert progress.disposition is Disposition.BUSY and progress.sip_status is None


def test_answered_call_lifecycle():
    p = fold(
        Originated(10.0, "PJSIP/trunk-1"),
        Ringing(11.0),
        Answered(15.0),
        OriginateResult(15.0, True, 4),
        HungUp(45.5, 16, "Normal Clearing"),
    )
    assert p.state is CallState.HUNGUP
    assert p.settled
    assert p.disposition is Disposition.ANSWERED
    assert p.ring_seconds == 5.0
    assert p.talk_seconds == 30.5
    assert p.cause == 16


def test_not_settled_until_originate_result_for_unanswered_calls():
    p = fold(Originated(1.0, "Local/x;1"), HungUp(2.0, 0, "Unknown"))
    assert p.ended and not p.settled
    p = p.apply(OriginateResult(2.1, False, 5))
    assert p.settled and p.disposition is Disposition.BUSY


def test_peer_leg_cause_fills_in_a_zero_cause():
    p = fold(
        Originated(1.0, "Local/busy;1"),
        HungUp(2.0, 0, "Unknown"),
        HungUp(2.0, 17, "User busy", primary=False),
        OriginateResult(2.0, False, 1),
    )
    assert (p.cause, p.cause_text) == (17, "User busy")
    assert p.disposition is Disposition.BUSY


def test_the_cause_of_a_hangup_request_fills_in_a_zero_cause():
    """Over PJSIP a callee's BYE comes as SoftHangupRequest Cause 16, then Hangup Cause 0."""
    p = fold(
        Originated(1.0, "PJSIP/carrier-1"), Answered(2.0), HangupRequested(3.0, 16), HungUp(3.0, 0, "Unknown")
    )
    assert (p.cause, p.cause_text) == (16, "Normal Clearing")
    p = fold(Originated(1.0, "c"), Answered(2.0), HangupRequested(3.0, 16), HungUp(3.0, 17, "User busy"))
    assert p.cause == 17  # the Hangup's own cause wins
    p = fold(Originated(1.0, "c"), HungUp(3.0, 16, "Normal Clearing"), HangupRequested(3.1, 21))
    assert p.cause == 16  # after the end, a request changes nothing


def test_primary_cause_is_not_overwritten_by_peer():
    p = fold(HungUp(1.0, 16, "Normal Clearing"), HungUp(1.1, 21, "Call Rejected", primary=False))
    assert p.cause == 16


def test_late_events_do_not_reopen_a_call():
    p = fold(Originated(1.0, "c"), Answered(2.0), HungUp(3.0, 16, "x"), Ringing(4.0), Answered(5.0))
    assert p.state is CallState.HUNGUP
    assert p.answered_at == 2.0


def test_originate_success_after_hangup_keeps_hungup_state():
    p = fold(Originated(1.0, "c"), HungUp(3.0, 16, "x"), OriginateResult(3.1, True, 4))
    assert p.state is CallState.HUNGUP
    assert p.answered_at == 3.1
    assert p.disposition is Disposition.ANSWERED


def test_vanished_call_before_answer_is_unknown_after_answer_is_answered():
    assert fold(Originated(1.0, "c"), Vanished(9.0)).disposition is Disposition.UNKNOWN
    p = fold(Originated(1.0, "c"), Answered(2.0), Vanished(9.0))
    assert p.settled and p.disposition is Disposition.ANSWERED
    assert p.vanished


def test_a_pbx_going_down_cuts_its_calls_never_the_callee():
    # Asterisk hangs its channels up with no cause, then says Shutdown about a second later
    p = fold(Originated(1.0, "c"), Answered(2.0), HungUp(10.0, 0, "Unknown"), PbxDown(11.1, "pbx-restart"))
    assert p.cut_by == "pbx-restart" and p.settled
    assert p.disposition is Disposition.INTERRUPTED
    # a call still ringing is our failure, not a no-answer
    p = fold(Originated(1.0, "c"), Ringing(1.5), PbxDown(3.0, "pbx-shutdown"))
    assert p.ended and p.settled and p.cut_by == "pbx-shutdown"
    assert p.disposition is Disposition.FAILED


@pytest.mark.parametrize(
    "events",
    [
        # the callee hung up (a cause), then the PBX went down
        (HungUp(10.0, 16, "Normal Clearing"), PbxDown(10.5, "pbx-restart")),
        # a hangup with no cause long before the PBX went down was not its doing
        (HungUp(10.0, 0, "Unknown"), PbxDown(20.0, "pbx-restart")),
    ],
)
def test_calls_that_ended_on_their_own_stay_the_callees(events):
    p = fold(Originated(1.0, "c"), Answered(2.0), *events)
    assert not p.cut_by
    assert p.disposition is Disposition.ANSWERED and p.ended_at == 10.0


def test_hangup_requests_of_the_primary_channel_carry_their_cause():
    from voicebot.telephony.pbx import translate

    request = {"Event": "SoftHangupRequest", "Uniqueid": "u1", "Linkedid": "u1", "Cause": "16"}
    assert translate(request, "u1", 5.0) == HangupRequested(5.0, 16)
    assert translate({**request, "Event": "HangupRequest", "Cause": ""}, "u1", 5.0) == HangupRequested(5.0, 0)
    assert translate({**request, "Uniqueid": "u2"}, "u1", 5.0) is None  # another leg's request


def test_a_channel_the_pbx_tore_down_itself_is_a_pbx_error():
    """No free RTP port: Asterisk creates the channel, hangs it up with cause 0, and fails the
    originate with reason 0; nothing reached the trunk."""
    refused = fold(
        Originated(1.0, "PJSIP/carrier-1"), HungUp(1.1, 0, "Unknown"), OriginateResult(1.1, False, 0)
    )
    assert refused.refused_by_pbx and refused.disposition is Disposition.PBX_ERROR
    rang = fold(Originated(1.0, "c"), Ringing(1.5), HungUp(9.0, 0, "Unknown"), OriginateResult(9.0, False, 0))
    assert rang.disposition is Disposition.FAILED  # it reached the callee's side
    by_trunk = fold(Originated(1.0, "c"), HungUp(1.1, 0, "", tech_cause=503), OriginateResult(1.1, False, 0))
    assert by_trunk.disposition is Disposition.TRUNK_ERROR
    never_created = fold(HungUp(1.0, 0, "channel could not be created"), OriginateResult(1.0, False, 0))
    assert never_created.disposition is Disposition.FAILED

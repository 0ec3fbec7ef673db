"""AsteriskPbx following calls, replayed from AMI exchanges recorded on the real Asterisk 22."""

from pathlib import Path

import pytest

from voicebot.telephony.callstate import CallState, Disposition
from voicebot.telephony.pbx import AsteriskPbx, OriginateRequest
from voicebot.telephony.testing import ReplayAmi

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ami"


@pytest.mark.parametrize(
    ("recording", "expected", "cause"),
    [
        ("originate-busy.txt", Disposition.BUSY, 17),
        ("originate-congestion.txt", Disposition.CONGESTION, 34),
        ("originate-noanswer.txt", Disposition.NO_ANSWER, 19),
        ("originate-invalid.txt", Disposition.INVALID, 1),
        ("originate-silent.txt", Disposition.ANSWERED, 16),
        ("originate-drop-0.5.txt", Disposition.ANSWERED, 16),
        # over the lab's SIP trunk: Asterisk's TechCause is the carrier's response
        ("originate-sip-403.txt", Disposition.REJECTED, 21),
        ("originate-sip-603.txt", Disposition.DECLINED, 21),
        ("originate-sip-503.txt", Disposition.TRUNK_ERROR, 34),
    ],
)
async def test_recorded_exchange_gives_disposition(recording, expected, cause):
    ami = ReplayAmi(FIXTURES / recording)
    pbx = AsteriskPbx(ami, clock=iter(range(1000)).__next__)  # type: ignore[arg-type]
    request = OriginateRequest(
        call_id=ami.call_id,
        channel=ami.header["channel"],
        context="voicebot-outbound",
        variables={"VOICEBOT_CALL_ID": ami.call_id},
    )
    handle = await pbx.originate(request)
    progress = await handle.wait_settled(timeout=2)
    assert progress.state is CallState.HUNGUP
    assert progress.disposition is expected
    assert progress.cause == cause
    dialed = ami.header["channel"]  # Local/exten@context/n, or PJSIP/number@endpoint
    tech, _, rest = dialed.partition("/")
    name = rest.split("@")[1] if tech == "PJSIP" else rest.split("@")[0]
    assert progress.channel.startswith(f"{tech}/{name}")
    sent = ami.sent[0]
    assert sent["ChannelId"] == ami.call_id
    assert f"VOICEBOT_CALL_ID={ami.call_id}" in sent["Variable"]
    if expected is Disposition.ANSWERED:
        assert progress.answered_at is not None and progress.talk_seconds is not None


async def test_events_of_other_calls_are_ignored():
    ami = ReplayAmi(FIXTURES / "originate-busy.txt")
    pbx = AsteriskPbx(ami)
    other = OriginateRequest(
        call_id="11111111-1111-4111-8111-111111111111", channel="Local/x@y/n", context="voicebot-outbound"
    )
    handle = await pbx.originate(other)
    progress = await handle.wait_settled(timeout=1)
    # none of the recorded call's channel events reached it, only its own action's response
    assert progress.channel == "" and progress.originated_at is None
    assert progress.originate_reason == 5
    assert progress.cause_text == "channel could not be created"


async def test_originate_of_an_impossible_channel_ends(tmp_path):
    """Asterisk sends only a failed OriginateResponse (no channel events) for Foo/bar."""
    recording = tmp_path / "foo.txt"
    recording.write_text(
        "# call_id: a292cf05-b91d-42e4-8b92-02920cd5a62a\n# channel: Foo/bar\n"
        "Response: Success\nActionID: a/1\nMessage: Originate successfully queued\n\n"
        "Event: OriginateResponse\nPrivilege: call,all\nActionID: a/1\nResponse: Failure\nChannel: Foo/bar\n"
        "Context: voicebot-outbound\nExten: s\nReason: 0\nUniqueid: a292cf05-b91d-42e4-8b92-02920cd5a62a\n"
    )
    ami = ReplayAmi(recording)
    pbx = AsteriskPbx(ami)
    handle = await pbx.originate(OriginateRequest(call_id=ami.call_id, channel="Foo/bar", context="c"))
    progress = await handle.wait_settled(timeout=1)
    assert progress.disposition is Disposition.FAILED
    assert progress.cause_text == "channel could not be created"


async def test_a_conversation_hung_up_without_a_cause_waits_to_hear_whether_the_pbx_went_down():
    from voicebot.telephony.callstate import Answered, HungUp, Originated, PbxDown
    from voicebot.telephony.pbx import CallHandle

    normal, unclear = CallHandle("a"), CallHandle("b")
    for handle, cause in ((normal, 16), (unclear, 0)):
        handle.apply(Originated(1.0, "Local/x"))
        handle.apply(Answered(2.0))
        handle.apply(HungUp(9.0, cause, ""))
    assert (await normal.wait_settled(timeout=0.5)).cut_by == ""
    with pytest.raises(TimeoutError):  # Asterisk says Shutdown about a second after its hangups
        await unclear.wait_settled(timeout=0.5)
    unclear.apply(PbxDown(9.9, "pbx-restart"))
    progress = await unclear.wait_settled(timeout=0.5)
    assert progress.cut_by == "pbx-restart" and progress.disposition is Disposition.INTERRUPTED

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
        ("originate-invalid.txt", Disposition.FAILED, 1),
        ("originate-silent.txt", Disposition.ANSWERED, 16),
        ("originate-drop-0.5.txt", Disposition.ANSWERED, 16),
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
    assert progress.channel.startswith(ami.header["channel"].split("@")[0])
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
    await __import__("asyncio").sleep(0.05)
    assert handle.progress.state is CallState.PENDING
    assert handle.progress.originate_reason == 5  # the action's own response still arrives

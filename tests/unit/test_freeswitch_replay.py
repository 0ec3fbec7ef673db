"""FreeSwitchPbx and the event-socket client following calls, replayed from exchanges recorded on
the real FreeSWITCH 1.10.12 (tests/tools/record_esl.py); the lab twin is
tests/integration/test_freeswitch_calls.py."""

from pathlib import Path

import pytest

from voicebot.telephony.callstate import CallState, Disposition
from voicebot.telephony.esl.client import EslClient
from voicebot.telephony.esl.testing import ReplayServer
from voicebot.telephony.freeswitch import FreeSwitchPbx
from voicebot.telephony.pbx import OriginateRequest

FIXTURES = Path(__file__).parents[1] / "fixtures" / "esl"


@pytest.mark.parametrize(
    ("callee", "expected", "cause"),
    [
        ("busy", Disposition.BUSY, 17),
        ("congestion", Disposition.CONGESTION, 34),
        ("noanswer", Disposition.NO_ANSWER, 19),
        ("invalid", Disposition.INVALID, 1),
        ("drop-2", Disposition.ANSWERED, 16),
    ],
)
async def test_recorded_exchange_gives_disposition(callee, expected, cause):
    server = ReplayServer(FIXTURES / f"originate-{callee}.esl")
    port = await server.start()
    esl = EslClient("127.0.0.1", port, "lab", user="voicebot@voicebot.lab", keepalive=0)
    pbx = FreeSwitchPbx(esl)
    await esl.connect()
    try:
        request = OriginateRequest(
            server.call_id, f"loopback/{callee}/voicebot-lab", "voicebot-lab", "silent"
        )
        handle = await pbx.originate(request)
        progress = await handle.wait_settled(timeout=5)
    finally:
        await esl.close()
        await server.close()
    assert server.commands[0] == "userauth voicebot@voicebot.lab:lab"
    assert server.commands[1].startswith("event plain CHANNEL_CREATE")
    assert server.commands[2].startswith(f"bgapi originate {{origination_uuid={server.call_id},")
    assert server.commands[2].endswith(f"}}loopback/{callee}/voicebot-lab silent XML voicebot-lab")
    assert progress.state is CallState.HUNGUP
    assert progress.disposition is expected
    assert progress.cause == cause
    assert progress.channel == f"loopback/{callee}-a"
    assert (progress.answered_at is not None) is (expected is Disposition.ANSWERED)

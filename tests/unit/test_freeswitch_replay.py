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


async def test_an_originate_whose_result_never_comes_ends_when_its_channel_does_not_exist(monkeypatch):
    """FreeSWITCH over its session rate may never say how an originate went: the call is checked
    after the ring timeout, and ends (failed) when no channel of it exists, instead of waiting."""
    import asyncio

    from voicebot.telephony import freeswitch

    monkeypatch.setattr(freeswitch, "RESULT_GRACE", 0.1)
    asked: list[str] = []

    async def silent_pbx(reader, writer):
        writer.write(b"Content-Type: auth/request\n\n")
        while line := (await reader.readuntil(b"\n\n")).decode().strip():
            asked.append(line)
            if line.startswith("bgapi"):  # accepted, and never a BACKGROUND_JOB
                writer.write(b"Content-Type: command/reply\nReply-Text: +OK Job-UUID: j-1\nJob-UUID: j-1\n\n")
            elif line.startswith("api uuid_exists"):
                writer.write(b"Content-Type: api/response\nContent-Length: 5\n\nfalse")
            else:
                writer.write(b"Content-Type: command/reply\nReply-Text: +OK\n\n")

    server = await asyncio.start_server(silent_pbx, "127.0.0.1", 0)
    esl = EslClient("127.0.0.1", server.sockets[0].getsockname()[1], "lab", keepalive=0)
    pbx = FreeSwitchPbx(esl)
    await esl.connect()
    try:
        call_id = "0c9e8498-157b-4778-b970-b54f14ff3ae1"
        handle = await pbx.originate(
            OriginateRequest(call_id, "loopback/busy/voicebot-lab", "x", "y", ring_timeout=0.1)
        )
        progress = await handle.wait_settled(timeout=5)
    finally:
        await esl.close()
        server.close()
    assert f"api uuid_exists {call_id}" in asked
    assert progress.disposition is Disposition.FAILED and progress.originate_success is False
    assert progress.cause_text == "FreeSWITCH never answered the originate"

"""The call socket's first exchange over real loopback sockets: voicebot says ``connect``,
FreeSWITCH answers with the channel's data, whose values come URL-encoded (the lab twin is
tests/integration/test_freeswitch_inbound.py, where the caller's +NUMBER arrives so)."""

from __future__ import annotations

import asyncio

from voicebot.telephony.esl.callsocket import CallSocketServer, SocketCall
from voicebot.telephony.peers import PeerFilter

CHANNEL_DATA = (
    "Event-Name: CHANNEL_DATA\n"
    "Unique-ID: 5b1b8a5e-3e1d-4a4e-9d7c-0d7c3d2f9a11\n"
    "Channel-Name: sofia/external/%2B8613800007331%40trunk.example\n"
    "Caller-Caller-ID-Number: %2B8613800007331\n"
    "variable_VOICEBOT_ROUTE: inbound\n"
    "variable_VOICEBOT_DIALED: 861012345678\n"
    "variable_VOICEBOT_CALL_ID: 5b1b8a5e-3e1d-4a4e-9d7c-0d7c3d2f9a11\n"
    "variable_sip_from_display: Li%20Lei\n"
    "Content-Type: command/reply\n"
    "Reply-Text: %2BOK\n"
    "Socket-Mode: async\n"
    "Control: full\n\n"
)


async def test_the_channel_data_is_read_decoded():
    seen: list[SocketCall] = []

    async def on_call(call: SocketCall) -> None:
        seen.append(call)

    server = CallSocketServer("127.0.0.1", 0, on_call, peers=PeerFilter.of(["127.0.0.1"], "127.0.0.1"))
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert await asyncio.wait_for(reader.readuntil(b"\n\n"), 5) == b"connect\n\n"
        writer.write(CHANNEL_DATA.encode())
        for expected in (b"myevents\n\n", b"linger\n\n"):
            assert await asyncio.wait_for(reader.readuntil(b"\n\n"), 5) == expected
            writer.write(b"Content-Type: command/reply\nReply-Text: +OK\n\n")
        await asyncio.wait_for(reader.read(), 5)  # the handler returned: voicebot let go
        writer.close()
    finally:
        await server.close()
    (call,) = seen
    assert call.call_id == call.uuid == "5b1b8a5e-3e1d-4a4e-9d7c-0d7c3d2f9a11"
    assert call.channel == "sofia/external/+8613800007331@trunk.example"
    assert call.headers["Caller-Caller-ID-Number"] == "+8613800007331"
    assert call.variables["VOICEBOT_ROUTE"] == "inbound" and call.variables["sip_from_display"] == "Li Lei"

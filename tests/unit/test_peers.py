"""Only the PBX may connect: the peer filter, and both servers refusing a stranger.

The stranger is this machine seen from another loopback address (127.0.0.2): the
servers allow 127.0.0.1 only, as they would allow only the PBX's address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import uuid

import pytest

from voicebot.errors import ConfigError
from voicebot.telephony.agi import AgiServer
from voicebot.telephony.audiosocket.codec import Frame, FrameType, encode
from voicebot.telephony.audiosocket.server import AudioSocketServer
from voicebot.telephony.peers import PeerFilter

PBX_ONLY = ["127.0.0.1"]


def test_the_filter_allows_the_pbx_networks_only(caplog):
    peers = PeerFilter.of(["10.0.0.5", "10.0.1.0/24"], "unused")
    assert peers.allows(("10.0.0.5", 4573)) and peers.allows(("10.0.1.77", 1))
    assert peers.allows(("::ffff:10.0.0.5", 1, 0, 0))  # IPv4 seen through an IPv6 socket
    caplog.set_level(logging.WARNING)
    for _ in range(50):
        assert not peers.allows(("10.0.2.1", 5000))
    assert not peers.allows(None) and not peers.allows("/run/sock")  # not an IP peer
    assert peers.refused == 50
    # one line per refused address a minute, not one per connection
    assert [r.getMessage() for r in caplog.records].count(
        "server: refused a connection from 10.0.2.1, not a PBX address (allowed: 10.0.0.5/32, 10.0.1.0/24)"
    ) == 1


def test_by_default_the_pbx_is_the_ami_host():
    peers = PeerFilter.of([], "localhost")
    assert ipaddress.ip_network("127.0.0.1/32") in peers.networks
    assert not peers.allows(("127.0.0.2", 1))


def test_a_bad_address_says_how_to_write_one():
    with pytest.raises(ConfigError) as err:
        PeerFilter.of(["10.0.0.300"], "unused")
    assert "invalid PBX address '10.0.0.300'" in str(err.value) and "10.0.1.0/24" in str(err.value)


async def stranger(port: int, payload: bytes) -> bytes:
    """Connect from 127.0.0.2, send ``payload``, read what comes back until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.2", 0))
    try:
        writer.write(payload)
        return await asyncio.wait_for(reader.read(), 2)
    except ConnectionResetError:
        return b""
    finally:
        writer.close()


async def test_fastagi_refuses_a_stranger_before_reading_a_byte():
    calls = []

    async def on_call(call):
        calls.append(call)
        await call.command("HANGUP")

    server = AgiServer("127.0.0.1", 0, on_call, peers=PeerFilter.of(PBX_ONLY, "unused"))
    await server.start()
    try:
        request = (
            "agi_network: yes\nagi_network_script: bot\nagi_channel: PJSIP/x\n"
            f"agi_arg_1: {uuid.uuid4()}\nagi_callerid: 13800138000\n\n"
        ).encode()
        assert await stranger(server.port, request) == b""
        assert calls == [] and server.peers.refused == 1
    finally:
        await server.close()


async def test_audiosocket_refuses_a_stranger():
    streams = []

    async def on_stream(stream):
        streams.append(stream)

    server = AudioSocketServer("127.0.0.1", 0, on_stream, peers=PeerFilter.of(PBX_ONLY, "unused"))
    await server.start()
    try:
        hello = encode(Frame(FrameType.UUID, uuid.uuid4().bytes)) + encode(Frame(FrameType.AUDIO, bytes(320)))
        assert await stranger(server.port, hello) == b""
        assert streams == [] and server.peers.refused == 1
    finally:
        await server.close()

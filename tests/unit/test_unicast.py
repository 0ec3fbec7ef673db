"""The unicast media server on real loopback UDP sockets: only the PBX's port of an open call is
heard, within bounds; frames go out every 20 ms; ports come back to the pool."""

from __future__ import annotations

import asyncio
import socket

import pytest

from voicebot.errors import TelephonyError
from voicebot.media import audio
from voicebot.media.stream import AudioIn, HangupIn
from voicebot.telephony import unicast
from voicebot.telephony.unicast import UnicastServer


def _peer(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


def _drain(sock: socket.socket) -> list[bytes]:
    got = []
    while True:
        try:
            got.append(sock.recv(4096))
        except BlockingIOError:
            return got


def _free_ports(n: int) -> range:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1]
    return range(base, base + n) if base + n < 65535 else range(base - n, base)


async def test_only_the_calls_own_port_is_heard_within_bounds(monkeypatch):
    ports = _free_ports(2)
    server = UnicastServer("127.0.0.1", 0, "127.0.0.1", ports)
    await server.start()
    stream = server.open("call-1")
    pbx, stranger = _peer(stream.pbx_port), _peer(0)
    target = ("127.0.0.1", server.port)
    try:
        frame = audio.tone(440, 0.02)
        pbx.sendto(frame, target)
        stranger.sendto(frame, target)  # not the PBX's port of any call
        pbx.sendto(b"\x00" * (unicast.MAX_DATAGRAM + 2), target)  # too large
        pbx.sendto(b"\x00" * 3, target)  # not 16-bit samples
        await asyncio.sleep(0.1)
        events = []
        while not stream._events.empty():
            events.append(stream._events.get_nowait())
        assert [e.pcm for e in events if isinstance(e, AudioIn)] == [frame]
        assert server.strangers == 2 and stream.dropped_in == 1
        # what the bot plays reaches the PBX's port, paced at one frame per 20 ms (silence before)
        _drain(pbx)
        played = asyncio.create_task(stream.play(audio.tone(300, 0.2)))
        await asyncio.sleep(0.3)
        got = _drain(pbx)
        assert await played is not None
        assert 12 <= len(got) <= 18 and all(len(g) == audio.FRAME_BYTES for g in got)
        assert sum(audio.rms(g) > 0.1 for g in got) >= 9  # the 0.2 s tone, 10 frames
        # a flood beyond real time plus slack is dropped, never queued (the kernel may drop some
        # first: count what arrived)
        arrived, dropped = stream.frames_in, stream.dropped_in
        for _ in range(1000):
            pbx.sendto(frame, target)
            if _ % 50 == 0:
                await asyncio.sleep(0.005)
        await asyncio.sleep(0.2)
        came = stream.frames_in - arrived
        accepted = came - (stream.dropped_in - dropped)
        assert came > 200, came
        assert accepted <= (unicast.INBOUND_AUDIO_BURST + unicast.INBOUND_AUDIO_RATE * 0.5) / len(frame)
    finally:
        pbx.close()
        stranger.close()
        await server.close()


async def test_a_silent_stream_ends_and_its_port_returns(monkeypatch):
    monkeypatch.setattr(unicast, "SILENCE_TIMEOUT", 0.2)
    ports = _free_ports(1)
    server = UnicastServer("127.0.0.1", 0, "127.0.0.1", ports)
    await server.start()
    try:
        stream = server.open("call-1")
        with pytest.raises(TelephonyError, match="no free unicast port"):
            server.open("call-2")
        events = [e async for e in stream.events()]
        assert isinstance(events[-1], HangupIn) and events[-1].reason == "error"
        assert server.open("call-3").pbx_port == stream.pbx_port
    finally:
        await server.close()

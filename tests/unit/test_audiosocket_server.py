"""The AudioSocket server over loopback TCP, with a test client playing Asterisk's part.

Its twin against the real Asterisk is tests/integration/test_calls.py.
"""

import asyncio
import itertools
import statistics
import uuid

import pytest

from voicebot.media import audio
from voicebot.media.stream import AudioIn, DtmfIn, HangupIn, PlayResult
from voicebot.telephony.audiosocket.codec import Frame, FrameDecoder, FrameType, encode
from voicebot.telephony.audiosocket.server import AudioSocketServer


class Peer:
    """A stand-in for app_audiosocket: connects, sends the UUID, reads paced frames."""

    def __init__(self, port: int, call_id: uuid.UUID):
        self.port, self.call_id = port, call_id
        self.frames: list[tuple[float, Frame]] = []

    async def connect(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(encode(Frame(FrameType.UUID, self.call_id.bytes)))
        self._task = asyncio.create_task(self._read())

    async def _read(self):
        decoder = FrameDecoder()
        loop = asyncio.get_running_loop()
        while data := await self.reader.read(4096):
            for f in decoder.feed(data):
                self.frames.append((loop.time(), f))

    def send(self, frame: Frame):
        self.writer.write(encode(frame))

    async def close(self):
        self.writer.close()
        await asyncio.wait_for(self._task, 2)


@pytest.fixture
async def server():
    streams = asyncio.Queue()
    done = asyncio.Event()

    async def handler(stream):
        await streams.put(stream)
        await done.wait()

    srv = AudioSocketServer("127.0.0.1", 0, handler)
    await srv.start()
    srv.test_streams, srv.test_done = streams, done
    yield srv
    done.set()
    await srv.close()


async def test_stream_receives_audio_dtmf_and_eof(server):
    call_id = uuid.uuid4()
    peer = Peer(server.port, call_id)
    await peer.connect()
    stream = await asyncio.wait_for(server.test_streams.get(), 2)
    assert stream.call_id == str(call_id)
    speech = audio.tone(300, 0.1)
    for frame in audio.split_frames(speech):
        peer.send(Frame.audio(frame))
    peer.send(Frame(FrameType.DTMF, b"#"))
    await peer.close()  # Asterisk signals a callee hangup by closing the socket
    events = [e async for e in stream.events()]
    assert b"".join(e.pcm for e in events if isinstance(e, AudioIn)) == speech
    assert [e.digit for e in events if isinstance(e, DtmfIn)] == ["#"]
    assert isinstance(events[-1], HangupIn) and events[-1].reason == "eof"


async def test_idle_stream_sends_silence_every_20_ms(server):
    peer = Peer(server.port, uuid.uuid4())
    await peer.connect()
    await server.test_streams.get()
    await asyncio.sleep(1.0)
    times = [t for t, f in peer.frames]
    assert all(f.type is FrameType.AUDIO and f.payload == bytes(320) for _, f in peer.frames)
    assert 45 <= len(times) <= 52
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert abs(statistics.mean(gaps) - 0.020) < 0.002
    await peer.close()


async def test_play_is_paced_not_burst(server):
    peer = Peer(server.port, uuid.uuid4())
    await peer.connect()
    stream = await server.test_streams.get()
    prompt = audio.tone(440, 0.5)
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await stream.play(prompt) is PlayResult.COMPLETED
    elapsed = loop.time() - start
    assert 0.46 <= elapsed <= 0.6  # 25 frames at 20 ms, not one burst
    await asyncio.sleep(0.05)
    payloads = b"".join(f.payload for _, f in peer.frames if f.payload != bytes(320))
    assert payloads == prompt
    await peer.close()


async def test_clear_interrupts_a_prompt(server):
    peer = Peer(server.port, uuid.uuid4())
    await peer.connect()
    stream = await server.test_streams.get()
    play = asyncio.create_task(stream.play(audio.tone(440, 5.0)))
    await asyncio.sleep(0.2)
    stream.clear()
    assert await asyncio.wait_for(play, 0.1) is PlayResult.INTERRUPTED
    await peer.close()


async def test_hangup_sends_the_hangup_frame(server):
    peer = Peer(server.port, uuid.uuid4())
    await peer.connect()
    stream = await server.test_streams.get()
    await stream.hangup()
    await asyncio.wait_for(peer._task, 2)
    assert peer.frames[-1][1].type is FrameType.HANGUP
    assert stream.closed


async def test_malformed_frame_ends_that_stream_only(server):
    good, bad = Peer(server.port, uuid.uuid4()), Peer(server.port, uuid.uuid4())
    await good.connect()
    s1 = await server.test_streams.get()
    await bad.connect()
    s2 = await server.test_streams.get()
    bad.writer.write(b"\x42\x00\x01x")
    events = [e async for e in s2.events()]
    assert events[-1] == HangupIn("error", events[-1].at)
    assert not s1.closed
    good.send(Frame.audio(bytes(320)))
    await asyncio.sleep(0.05)
    assert s1.frames_in == 1
    await good.close()


async def test_connection_without_uuid_is_rejected(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(encode(Frame.audio(bytes(320))))
    assert await asyncio.wait_for(reader.read(), 2) == b""  # closed by the server
    assert server.test_streams.empty()


async def test_port_in_use_is_a_clear_error(server):
    from voicebot.errors import ConfigError

    other = AudioSocketServer("127.0.0.1", server.port, lambda s: asyncio.sleep(0))
    with pytest.raises(
        ConfigError,
        match=r"(?s)cannot listen for AudioSocket on 127.0.0.1:\d+.*address already in use"
        r".*VOICEBOT_AUDIOSOCKET__PORT",
    ):
        await other.start()


async def test_a_flood_is_cut_to_real_time_not_buffered(server):
    """Before: 107 MiB pushed in 2 s grew one call's buffer by 107 MiB, and every DTMF frame
    (outside the frame cap) became a database write."""
    from voicebot.telephony.audiosocket.server import INBOUND_AUDIO_BURST, INBOUND_DTMF_BURST

    peer = Peer(server.port, uuid.uuid4())
    await peer.connect()
    stream = await asyncio.wait_for(server.test_streams.get(), 2)
    started = asyncio.get_running_loop().time()
    big = bytes(4096)  # the largest payload the server takes
    for _ in range(2_500):  # 10 MB at once: 10 minutes of call audio
        peer.send(Frame.audio(big))
    for _ in range(1_000):
        peer.send(Frame(FrameType.DTMF, b"5"))
    await peer.writer.drain()
    await asyncio.sleep(0.5)
    await peer.close()
    elapsed = asyncio.get_running_loop().time() - started
    events = [e async for e in stream.events()]
    heard = sum(len(e.pcm) for e in events if isinstance(e, AudioIn))
    digits = sum(isinstance(e, DtmfIn) for e in events)
    assert heard <= INBOUND_AUDIO_BURST + 16_000 * elapsed + len(big)  # real time plus the slack
    assert digits <= INBOUND_DTMF_BURST + 10 * elapsed + 1
    assert stream.dropped_in >= 2_500 + 1_000 - heard // len(big) - digits


async def test_connections_beyond_the_cap_are_closed_at_once():
    """Issue 10, section 2: AudioSocket connections are capped like FastAGI's."""
    release = asyncio.Event()

    async def on_stream(stream):
        await release.wait()

    server = AudioSocketServer("127.0.0.1", 0, on_stream, max_connections=2)
    await server.start()
    clients = []
    try:
        for _ in range(2):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(encode(Frame(FrameType.UUID, uuid.uuid4().bytes)))
            clients.append(writer)
        await asyncio.sleep(0.2)
        assert len(server.streams) == 2
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(encode(Frame(FrameType.UUID, uuid.uuid4().bytes)))
        try:
            data = await asyncio.wait_for(reader.read(), 2)
        except ConnectionResetError:  # aborted: as good as closed
            data = b""
        assert data == b"" and server.cap.refused == 1 and len(server.streams) == 2
        writer.close()
    finally:
        release.set()
        for w in clients:
            w.close()
        await server.close()

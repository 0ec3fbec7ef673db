"""The AudioSocket server: Asterisk connects here once per call.

One pacer task ticks every 20 ms on the server's own clock and writes one frame
(queued audio or silence) to every open stream. Inbound frames are decoded by a
reader task per stream and become :mod:`voicebot.media.stream` events. EOF
means the callee hung up: Asterisk closes the socket without a hangup frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from voicebot.errors import AudioSocketError, ConfigError, FrameError
from voicebot.media.audio import SILENCE_FRAME
from voicebot.media.pacing import FrameClock, PlayoutStream, TokenBucket
from voicebot.media.stream import AudioIn, DtmfIn, HangupIn, PlayResult
from voicebot.telephony.audiosocket.codec import Frame, FrameDecoder, FrameType, encode
from voicebot.telephony.peers import ConnectionCap, PeerFilter

log = logging.getLogger(__name__)

StreamHandler = Callable[["AudioSocketStream"], Awaitable[None]]

#: Inbound frames buffered for a slow consumer: 10 s of audio; older ones are dropped.
INBOUND_QUEUE_FRAMES = 500
#: Inbound audio a peer may send: real time (8 kHz, 16-bit), with 3 s of slack for jitter and a
#: busy event loop; beyond, dropped.
INBOUND_AUDIO_RATE, INBOUND_AUDIO_BURST = 16_000, 48_000
#: DTMF digits a peer may send: 10 a second, 20 at once (a person keys far fewer); beyond, dropped.
INBOUND_DTMF_RATE, INBOUND_DTMF_BURST = 10, 20
#: Bytes waiting in the socket's send buffer before the peer counts as stuck (2 s of audio).
MAX_WRITE_BUFFER = 32_000
FIRST_FRAME_TIMEOUT = 5.0
#: AudioSocket connections open at once; beyond, new ones are closed (every call holds one).
MAX_CONNECTIONS = 1000
_SILENCE = encode(Frame.audio(SILENCE_FRAME))


class AudioSocketStream(PlayoutStream):
    """One call's AudioSocket connection, as a :class:`~voicebot.media.stream.MediaStream`."""

    def __init__(
        self,
        call_id: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        decoder: FrameDecoder,
    ) -> None:
        super().__init__(call_id)
        self._reader = reader
        self._writer = writer
        self._decoder = decoder
        self._hanging_up = False
        self.frames_in = 0
        self.frames_out = 0
        self.dropped_in = 0
        self.silence_out = 0
        # a peer pushing faster than real time (a flood) is cut to it, never buffered
        now = time.monotonic()
        self._audio_budget = TokenBucket(INBOUND_AUDIO_RATE, INBOUND_AUDIO_BURST, now)
        self._dtmf_budget = TokenBucket(INBOUND_DTMF_RATE, INBOUND_DTMF_BURST, now)
        self._read_task = asyncio.create_task(self._read_loop(), name=f"audiosocket-read-{call_id}")

    async def hangup(self) -> None:
        """Send the hangup frame: app_audiosocket returns and the dialplan goes on."""
        if not self._closed and not self._hanging_up:
            self._hanging_up = True  # the pacer sends nothing after the hangup frame
            with contextlib.suppress(OSError):
                self._writer.write(encode(Frame.hangup()))
                await asyncio.wait_for(self._writer.drain(), 1.0)
        await self._finish("local")

    async def aclose(self) -> None:
        await self._finish("local")

    # -- driven by the server's pacer -------------------------------------------------
    def tick(self, frames: int) -> None:
        """Write ``frames`` frames: queued audio, else silence."""
        if self._closed or self._hanging_up:
            return
        if self._writer.transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            log.warning("audiosocket peer stopped reading", extra={"call_id": self._call_id})
            asyncio.create_task(self._finish("error"))  # noqa: RUF006 - owned via _finish
            return
        out = bytearray()
        for _ in range(frames):
            frame = self._playout.next_frame()
            if frame is None:
                out += _SILENCE
                self.silence_out += 1
            else:
                out += encode(Frame.audio(frame))
            self.frames_out += 1
        try:
            self._writer.write(bytes(out))
        except (OSError, RuntimeError):
            asyncio.create_task(self._finish("eof"))  # noqa: RUF006

    # -- internals --------------------------------------------------------------------
    async def _read_loop(self) -> None:
        reason = "eof"
        try:
            while True:
                data = await self._reader.read(4096)
                if not data:
                    break
                frames = self._decoder.feed(data)
                if self._handle(frames):
                    reason = "hangup-frame"
                    break
        except FrameError as e:
            log.error("bad audiosocket frame: %s", e.message, extra={"call_id": self._call_id})
            reason = "error"
        except (ConnectionError, OSError):
            reason = "eof"
        except asyncio.CancelledError:
            reason = "local"
        self._close_now(reason)

    def _handle(self, frames: list[Frame]) -> bool:
        """Queue events for the frames; True when the peer ended the stream."""
        now = time.monotonic()
        for frame in frames:
            if frame.type in (FrameType.AUDIO, FrameType.DTMF):
                self.frames_in += 1
                budget = self._audio_budget if frame.type is FrameType.AUDIO else self._dtmf_budget
                cost = len(frame.payload) if frame.type is FrameType.AUDIO else 1
                if self._events.qsize() >= INBOUND_QUEUE_FRAMES or not budget.take(cost, now):
                    self.dropped_in += 1
                    continue
                if frame.type is FrameType.AUDIO:
                    self._events.put_nowait(AudioIn(frame.payload, self.now()))
                else:
                    self._events.put_nowait(DtmfIn(frame.digit(), self.now()))
            elif frame.type is FrameType.HANGUP:
                return True
            elif frame.type is FrameType.ERROR:
                log.warning(
                    "asterisk sent audiosocket error 0x%02x",
                    frame.error_code(),
                    extra={"call_id": self._call_id},
                )
                if frame.error_code() == 0x01:
                    return True
        return False

    def _close_now(self, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        self._playout.clear(PlayResult.HUNGUP)
        self._events.put_nowait(HangupIn(reason, self.now()))
        self._writer.close()

    async def _finish(self, reason: str) -> None:
        self._close_now(reason)
        if self._read_task is not asyncio.current_task():
            self._read_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._read_task
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            await asyncio.wait_for(self._writer.wait_closed(), 1.0)


class AudioSocketServer:
    """Accepts AudioSocket connections and paces every stream's output."""

    def __init__(
        self,
        host: str,
        port: int,
        on_stream: StreamHandler,
        *,
        max_payload: int = 4096,
        peers: PeerFilter | None = None,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.host = host
        #: Who may connect: the PBX (by default, this machine only).
        self.peers = peers or PeerFilter.loopback(server="AudioSocket")
        self.cap = ConnectionCap(max_connections, server="AudioSocket")
        self.port = port
        self._on_stream = on_stream
        self._max_payload = max_payload
        self._server: asyncio.Server | None = None
        self._streams: set[AudioSocketStream] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._pacer: asyncio.Task[None] | None = None
        self.clock = FrameClock(start=0.0)

    @property
    def streams(self) -> frozenset[AudioSocketStream]:
        return frozenset(self._streams)

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._accept, self.host, self.port)
        except OSError as e:
            raise ConfigError(
                f"cannot listen for AudioSocket on {self.host}:{self.port}: {e.strerror}",
                hint="another voicebot may be running; stop it or set VOICEBOT_AUDIOSOCKET__PORT",
            ) from e
        if self.port == 0:
            self.port = self._server.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        self.clock = FrameClock(start=loop.time())
        self._pacer = asyncio.create_task(self._pace(), name="audiosocket-pacer")

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for stream in list(self._streams):
            await stream.aclose()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._pacer is not None:
            self._pacer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pacer
        if self._server is not None:
            await self._server.wait_closed()

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            n = self.clock.due(loop.time())
            if n:
                for stream in list(self._streams):
                    stream.tick(n)
            await asyncio.sleep(max(0.0, self.clock.next_deadline() - loop.time()))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peer = writer.get_extra_info("peername")
        if not self.peers.admit(writer) or self.cap.full(len(self._handlers), writer):
            return
        self._handlers.add(task)
        decoder = FrameDecoder(self._max_payload)
        try:
            first = await asyncio.wait_for(self._first_frame(reader, decoder), FIRST_FRAME_TIMEOUT)
            call_id = str(first.uuid())
        except (TimeoutError, AudioSocketError, ConnectionError, OSError) as e:
            log.error("audiosocket connection from %s rejected: %s", peer, e)
            writer.close()
            self._handlers.discard(task)
            return
        stream = AudioSocketStream(call_id, reader, writer, decoder)
        self._streams.add(stream)
        try:
            await self._on_stream(stream)
        except Exception:
            log.exception("call handler failed", extra={"call_id": call_id})
        finally:
            await stream.aclose()
            self._streams.discard(stream)
            self._handlers.discard(task)

    @staticmethod
    async def _first_frame(reader: asyncio.StreamReader, decoder: FrameDecoder) -> Frame:
        """Read exactly the first frame, which must be the UUID, leaving audio unread."""
        try:
            header = await reader.readexactly(3)
            frames = decoder.feed(header)
            if not frames:
                frames = decoder.feed(await reader.readexactly(decoder.pending_payload))
        except asyncio.IncompleteReadError as e:
            raise AudioSocketError("connection closed before the UUID frame") from e
        if frames[0].type is not FrameType.UUID:
            raise FrameError(f"first frame is {frames[0].type.name}, expected UUID")
        return frames[0]

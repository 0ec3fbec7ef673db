"""Call audio with FreeSWITCH over its built-in ``unicast``: one UDP socket for every call.

voicebot tells a channel (``sendmsg``, ``call-command: unicast``) to bind a port of its own on
the PBX (``local-port``, one per call from a pool) and to exchange 20 ms datagrams of 16-bit
8 kHz PCM with voicebot's socket. A datagram's source (the PBX's address and that port) says
which call it belongs to; a datagram from anywhere else is dropped unread, as is one too large
for 40 ms of audio or beyond real time plus slack (a flood). One pacer task sends every open
stream a frame every 20 ms (queued audio, or silence), as the AudioSocket server does.

UDP has no end: a stream ends when the call's control connection says the call hung up
(:meth:`UnicastStream.ended`), or when no datagram came for ``SILENCE_TIMEOUT`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from voicebot.errors import ConfigError, TelephonyError
from voicebot.media.audio import FRAME_BYTES, SILENCE_FRAME
from voicebot.media.pacing import FrameClock, PlayoutStream, TokenBucket
from voicebot.media.stream import AudioIn, HangupIn, PlayResult

log = logging.getLogger(__name__)

#: The largest datagram read: 40 ms of 8 kHz audio; larger ones are dropped.
MAX_DATAGRAM = 2 * FRAME_BYTES
#: Inbound frames buffered for a slow consumer (10 s); beyond, dropped.
INBOUND_QUEUE_FRAMES = 500
#: Inbound audio a peer may send: real time, with 3 s of slack; beyond, dropped.
INBOUND_AUDIO_RATE, INBOUND_AUDIO_BURST = 16_000, 48_000
#: No audio for this long: the channel is gone (its control connection should have said so).
SILENCE_TIMEOUT = 10.0


class UnicastStream(PlayoutStream):
    """One call's audio, as a :class:`~voicebot.media.stream.MediaStream`."""

    def __init__(self, server: UnicastServer, call_id: str, pbx_port: int) -> None:
        super().__init__(call_id)
        self._server = server
        self.pbx_port = pbx_port
        self.last_heard = self._opened
        self.frames_in = 0
        self.frames_out = 0
        self.dropped_in = 0
        self.silence_out = 0
        self._budget = TokenBucket(INBOUND_AUDIO_RATE, INBOUND_AUDIO_BURST, self._opened)

    def ended(self, reason: str = "eof") -> None:
        """The call is over (its control connection said so): no more audio either way."""
        if self._closed:
            return
        self._closed = True
        self._playout.clear(PlayResult.HUNGUP)
        self._events.put_nowait(HangupIn(reason, self.now()))
        self._server.release(self)

    async def hangup(self) -> None:
        self.ended("local")

    async def aclose(self) -> None:
        self.ended("local")

    # -- driven by the server -----------------------------------------------------------
    def received(self, data: bytes, now: float) -> None:
        self.frames_in += 1
        self.last_heard = now
        if self._closed:
            return
        if (
            len(data) % 2
            or self._events.qsize() >= INBOUND_QUEUE_FRAMES
            or not self._budget.take(len(data), now)
        ):
            self.dropped_in += 1
            return
        self._events.put_nowait(AudioIn(data, self.now()))

    def frames(self, count: int) -> list[bytes]:
        """The next ``count`` frames to send: queued audio, else silence."""
        out = []
        for _ in range(count):
            frame = self._playout.next_frame()
            if frame is None:
                frame = SILENCE_FRAME
                self.silence_out += 1
            out.append(frame)
            self.frames_out += 1
        return out


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server: UnicastServer) -> None:
        self._server = server

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self._server.datagram(data, addr)

    def error_received(self, exc: Exception) -> None:  # an ICMP "port unreachable", say
        log.debug("unicast socket error: %s", exc)


class UnicastServer:
    """voicebot's UDP socket for FreeSWITCH's call audio, and the pool of the PBX-side ports."""

    def __init__(self, host: str, port: int, pbx_host: str, pbx_ports: range) -> None:
        self.host = host
        self.port = port
        self.pbx_host = pbx_host
        self._free = list(pbx_ports)
        self._ports = pbx_ports
        self._streams: dict[int, UnicastStream] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._pacer: asyncio.Task[None] | None = None
        self.clock = FrameClock(start=0.0)
        self.strangers = 0  # datagrams from no open stream's address: dropped

    @property
    def streams(self) -> list[UnicastStream]:
        return list(self._streams.values())

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Protocol(self), local_addr=(self.host, self.port)
            )
        except OSError as e:
            raise ConfigError(
                f"cannot listen for FreeSWITCH's call audio on UDP {self.host}:{self.port}: {e.strerror}",
                hint="another voicebot may be running; stop it or set VOICEBOT_UNICAST__PORT",
            ) from e
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        self.clock = FrameClock(start=loop.time())
        self._pacer = asyncio.create_task(self._pace(), name="unicast-pacer")

    async def close(self) -> None:
        for stream in list(self._streams.values()):
            stream.ended("local")
        if self._pacer is not None:
            self._pacer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pacer
        if self._transport is not None:
            self._transport.close()

    def open(self, call_id: str) -> UnicastStream:
        """A stream for a call, with the PBX-side port it must bind (``stream.pbx_port``)."""
        if not self._free:
            raise TelephonyError(
                f"no free unicast port for call {call_id}: all {len(self._ports)} in use",
                hint="widen [unicast] pbx_ports, or admit fewer calls",
            )
        port = self._free.pop(0)
        stream = UnicastStream(self, call_id, port)
        self._streams[port] = stream
        return stream

    def release(self, stream: UnicastStream) -> None:
        if self._streams.get(stream.pbx_port) is stream:
            del self._streams[stream.pbx_port]
            self._free.append(stream.pbx_port)  # the oldest freed is reused last

    def datagram(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        stream = self._streams.get(addr[1]) if addr[0] == self.pbx_host else None  # type: ignore[call-overload]
        if stream is None or len(data) > MAX_DATAGRAM:
            self.strangers += 1
            return
        stream.received(data, time.monotonic())

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            n = self.clock.due(loop.time())
            if n:
                self._tick(n)
            await asyncio.sleep(max(0.0, self.clock.next_deadline() - loop.time()))

    def _tick(self, count: int) -> None:
        assert self._transport is not None
        now = time.monotonic()
        for stream in list(self._streams.values()):
            if now - stream.last_heard > SILENCE_TIMEOUT:
                log.warning(
                    "no call audio for %.0f s: ending the stream",
                    SILENCE_TIMEOUT,
                    extra={"call_id": stream.call_id},
                )
                stream.ended("error")
                continue
            for frame in stream.frames(count):
                with contextlib.suppress(OSError):
                    self._transport.sendto(frame, (self.pbx_host, stream.pbx_port))

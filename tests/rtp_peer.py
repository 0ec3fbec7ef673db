"""The media side of the lab carrier: a real RTP endpoint on loopback.

SIPp answers the call (its SDP names this peer's port), and this peer is what a callee's
phone is to the PBX: it sends a steady 20 ms stream (silence, or the speech it is given),
RFC 4733 telephone events, changes its SSRC when told to, and keeps every packet the PBX
sends, so a test can decode and recognize what the callee heard.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import struct
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

PCMU, PCMA, EVENTS = 0, 8, 101
FRAME_SAMPLES = 160  # 20 ms at 8 kHz
DIGITS = "0123456789*#ABCD"


def _ulaw_decoded() -> npt.NDArray[np.int16]:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent, mantissa = (u >> 4) & 7, u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


def _alaw_decoded() -> npt.NDArray[np.int16]:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    exponent, mantissa = (a >> 4) & 7, a & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    return np.where(a & 0x80, magnitude, -magnitude).astype(np.int16)


def _encoder(decoded: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    """Every 16-bit sample's nearest code: G.711 encoding by table."""
    order = np.argsort(decoded, kind="stable")
    values = decoded[order].astype(np.int32)
    samples = np.arange(-32768, 32768, dtype=np.int32)
    right = np.clip(np.searchsorted(values, samples), 1, len(values) - 1)
    nearer_left = (samples - values[right - 1]) <= (values[right] - samples)
    return order[np.where(nearer_left, right - 1, right)].astype(np.uint8)


DECODE = {PCMU: _ulaw_decoded(), PCMA: _alaw_decoded()}
ENCODE = {pt: _encoder(table) for pt, table in DECODE.items()}


def encode(pcm: bytes, payload_type: int) -> bytes:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32) + 32768
    return bytes(ENCODE[payload_type][samples])


def decode(payload: bytes, payload_type: int) -> bytes:
    return DECODE[payload_type][np.frombuffer(payload, dtype=np.uint8)].astype("<i2").tobytes()


@dataclass(frozen=True)
class Packet:
    at: float  # loop time of arrival
    source: tuple[str, int]
    payload_type: int
    marker: bool
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes

    @classmethod
    def parse(cls, data: bytes, source: tuple[str, int], at: float) -> Packet | None:
        if len(data) < 12 or data[0] >> 6 != 2:
            return None
        header = 12 + 4 * (data[0] & 0x0F)
        seq, timestamp, ssrc = struct.unpack("!HII", data[2:12])
        return cls(at, source, data[1] & 0x7F, bool(data[1] & 0x80), seq, timestamp, ssrc, data[header:])


@dataclass
class Stream:
    """What this peer sends: its SSRC, sequence and timestamp, changed as a real source's are."""

    ssrc: int = field(default_factory=lambda: random.getrandbits(32))
    seq: int = field(default_factory=lambda: random.randrange(20000, 40000))
    timestamp: int = field(default_factory=lambda: random.getrandbits(32))

    def header(self, payload_type: int, marker: bool = False, timestamp: int | None = None) -> bytes:
        first = struct.pack("!BB", 0x80, (0x80 if marker else 0) | payload_type)
        stamp = self.timestamp if timestamp is None else timestamp
        return first + struct.pack("!HII", self.seq & 0xFFFF, stamp & 0xFFFFFFFF, self.ssrc)


class RtpPeer(asyncio.DatagramProtocol):
    """A callee's phone on 127.0.0.1: every packet received is kept; from the first one on
    (the PBX sends to the SDP's address, and takes back what comes from it: rtp_symmetric) it
    sends a frame every 20 ms: queued speech, telephone events, or silence."""

    def __init__(self, payload_type: int = PCMU) -> None:
        self.payload_type = payload_type
        self.received: list[Packet] = []
        self.stream = Stream()
        self.sent = 0
        self._remote: tuple[str, int] | None = None
        self._answered = asyncio.Event()
        self._frames: list[tuple[int, bytes, bool]] = []  # (payload type, payload, marker)
        self._transport: asyncio.DatagramTransport | None = None
        self._sender: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RtpPeer:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=("127.0.0.1", 0))
        self._sender = asyncio.create_task(self._send_forever(), name="rtp-peer")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sender:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        if self._transport:
            self._transport.close()

    @property
    def port(self) -> int:
        assert self._transport is not None
        return int(self._transport.get_extra_info("sockname")[1])

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        packet = Packet.parse(data, addr, asyncio.get_running_loop().time())
        if packet is None:
            return
        self.received.append(packet)
        if self._remote is None:
            self._remote = addr
            self._answered.set()

    async def media_started(self, timeout: float = 20.0) -> None:
        await asyncio.wait_for(self._answered.wait(), timeout)

    # ---- what the callee says
    def say(self, pcm: bytes) -> float:
        """Queue 8 kHz 16-bit speech; returns its length in seconds."""
        frame_bytes = FRAME_SAMPLES * 2
        pcm += bytes(-len(pcm) % frame_bytes)
        for i in range(0, len(pcm), frame_bytes):
            self._frames.append(
                (self.payload_type, encode(pcm[i : i + frame_bytes], self.payload_type), False)
            )
        return len(pcm) / 16000

    def press(self, digit: str, milliseconds: int = 160) -> None:
        """An RFC 4733 event: a start packet with the marker, updates every 20 ms, three ends."""
        event = DIGITS.index(digit)
        steps = milliseconds // 20
        for step in range(1, steps + 1):
            end = step == steps
            payload = struct.pack("!BBH", event, (0x80 if end else 0) | 10, step * FRAME_SAMPLES)
            for _ in range(3 if end else 1):
                self._frames.append((EVENTS, payload, step == 1))

    def change_source(self, seq_jump: int = -20000) -> None:
        """A new SSRC whose sequence numbers jump (backwards by default), as after an SBC's
        or a carrier's media switch."""
        self.stream = Stream(
            ssrc=random.getrandbits(32),
            seq=(self.stream.seq + seq_jump) & 0xFFFF,
            timestamp=random.getrandbits(32),
        )

    # ---- what the callee heard
    def heard(self, since: float = 0.0) -> bytes:
        """The PBX's voice packets decoded to 8 kHz 16-bit PCM, in arrival order."""
        return b"".join(
            decode(p.payload, p.payload_type)
            for p in self.received
            if p.payload_type in DECODE and p.at >= since
        )

    async def _send_forever(self) -> None:
        await self._answered.wait()
        loop = asyncio.get_running_loop()
        silence = encode(bytes(FRAME_SAMPLES * 2), self.payload_type)
        deadline = loop.time()
        event_start = 0  # every packet of one telephone event carries the timestamp it began at
        while True:
            payload_type, payload, marker = (
                self._frames.pop(0) if self._frames else (self.payload_type, silence, False)
            )
            if payload_type == EVENTS and marker:
                event_start = self.stream.timestamp
            stamp = event_start if payload_type == EVENTS else None
            assert self._transport is not None and self._remote is not None
            self._transport.sendto(self.stream.header(payload_type, marker, stamp) + payload, self._remote)
            self.sent += 1
            self.stream.seq += 1
            self.stream.timestamp += FRAME_SAMPLES
            deadline += 0.020
            await asyncio.sleep(max(0.0, deadline - loop.time()))

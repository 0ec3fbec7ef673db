"""The AudioSocket frame codec: pure functions, no sockets.

A frame is 1 byte of type, 2 bytes of big-endian payload length, then the payload.
Audio frames from Asterisk carry signed linear 16-bit little-endian 8 kHz mono,
320 bytes (20 ms) each.
"""

from __future__ import annotations

import enum
import struct
import uuid
from dataclasses import dataclass

from voicebot.errors import FrameError

HEADER = struct.Struct(">BH")
#: Largest payload accepted by default: 4 KiB is 256 ms of 8 kHz audio, far above
#: the 320-byte frames Asterisk sends; anything larger is a broken peer.
DEFAULT_MAX_PAYLOAD = 4096


class FrameType(enum.IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    SILENCE = 0x02
    DTMF = 0x03
    AUDIO = 0x10
    ERROR = 0xFF


class ErrorCode(enum.IntEnum):
    NONE = 0x00
    HANGUP = 0x01
    FRAME_FORWARDING = 0x02
    MEMORY = 0x04


@dataclass(frozen=True, slots=True)
class Frame:
    type: FrameType
    payload: bytes = b""

    @classmethod
    def audio(cls, pcm: bytes) -> Frame:
        return cls(FrameType.AUDIO, pcm)

    @classmethod
    def hangup(cls) -> Frame:
        return cls(FrameType.HANGUP)

    def uuid(self) -> uuid.UUID:
        """The session id of a UUID frame."""
        if self.type is not FrameType.UUID or len(self.payload) != 16:
            raise FrameError(f"not a 16-byte UUID frame: type {self.type.name}, {len(self.payload)} bytes")
        return uuid.UUID(bytes=self.payload)

    def digit(self) -> str:
        """The DTMF digit of a DTMF frame."""
        if self.type is not FrameType.DTMF or len(self.payload) != 1:
            raise FrameError(f"not a 1-byte DTMF frame: type {self.type.name}, {len(self.payload)} bytes")
        return self.payload.decode("ascii", errors="replace")

    def error_code(self) -> int:
        return self.payload[0] if self.type is FrameType.ERROR and self.payload else 0


def encode(frame: Frame) -> bytes:
    """Serialize one frame."""
    if len(frame.payload) > 0xFFFF:
        raise FrameError(f"payload of {len(frame.payload)} bytes does not fit a frame (max 65535)")
    return HEADER.pack(frame.type, len(frame.payload)) + frame.payload


class FrameDecoder:
    """Incremental decoder: feed it bytes as they arrive, get whole frames back.

    Partial frames wait in the buffer for the rest. An unknown type or a length
    above ``max_payload`` raises :class:`FrameError`; the stream is then unusable,
    since frame boundaries can no longer be trusted.
    """

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        self._buffer = bytearray()
        self._max_payload = max_payload
        self.offset = 0  # bytes consumed so far, for error messages

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        while len(self._buffer) >= HEADER.size:
            kind, length = HEADER.unpack_from(self._buffer)
            try:
                frame_type = FrameType(kind)
            except ValueError:
                raise FrameError(
                    f"unknown AudioSocket frame type 0x{kind:02x} at byte {self.offset}",
                    hint="the peer is not Asterisk's AudioSocket, or the stream is corrupt",
                ) from None
            if length > self._max_payload:
                raise FrameError(
                    f"AudioSocket frame of {length} bytes at byte {self.offset} exceeds "
                    f"the {self._max_payload}-byte limit",
                    hint="Asterisk sends 320-byte audio frames; check what is connecting",
                )
            end = HEADER.size + length
            if len(self._buffer) < end:
                break
            frames.append(Frame(frame_type, bytes(self._buffer[HEADER.size : end])))
            del self._buffer[:end]
            self.offset += end
        return frames

    @property
    def pending_payload(self) -> int:
        """Payload bytes still missing for the frame whose header is buffered (0 if none)."""
        if len(self._buffer) < HEADER.size:
            return 0
        length: int = HEADER.unpack_from(self._buffer)[1]
        return HEADER.size + length - len(self._buffer)

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame waiting for more data."""
        return len(self._buffer)

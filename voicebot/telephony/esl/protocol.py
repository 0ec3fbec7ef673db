"""FreeSWITCH's event socket protocol: bytes to messages and commands to bytes. Pure, no I/O.

Every message is a block of ``Name: value`` lines ended by a blank line, then, when the block
has ``Content-Length``, that many bytes of body::

    Content-Type: api/response
    Content-Length: 3

    +OK

An event (``Content-Type: text/event-plain``) carries its own header block in the body, values
URL-encoded, and may carry a body of its own after it (a BACKGROUND_JOB's result). A command is
one line (``api status``), or for ``sendmsg`` a line and ``Name: value`` lines, ended by a blank
line. A value holding a newline would end the command and start another: refused.

Every input is bounded: a header block of more than ``MAX_HEADER_BYTES`` or a body of more than
``MAX_BODY_BYTES`` is a protocol error, never a growing buffer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from voicebot.errors import EslActionError, EslProtocolError

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 4 * 1024 * 1024

AUTH_REQUEST = "auth/request"
COMMAND_REPLY = "command/reply"
API_RESPONSE = "api/response"
EVENT_PLAIN = "text/event-plain"
DISCONNECT_NOTICE = "text/disconnect-notice"
RUDE_REJECTION = "text/rude-rejection"


@dataclass(frozen=True, slots=True)
class Message:
    """One message as it came: its header block and its body (text)."""

    headers: Mapping[str, str]
    body: str = ""

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @property
    def reply(self) -> str:
        """A command's answer: ``+OK ...`` or ``-ERR ...`` (Reply-Text, or an api body)."""
        return self.headers.get("Reply-Text", "") if self.content_type == COMMAND_REPLY else self.body.strip()

    @property
    def ok(self) -> bool:
        return not self.reply.startswith("-")


@dataclass(frozen=True, slots=True)
class Event:
    """An event's headers (decoded) and its own body, if any."""

    headers: Mapping[str, str]
    body: str = ""
    name: str = field(init=False)

    def __post_init__(self) -> None:
        name = self.headers.get("Event-Name", "")
        if name == "CUSTOM":
            name = self.headers.get("Event-Subclass", name)
        object.__setattr__(self, "name", name)

    def get(self, key: str, default: str = "") -> str:
        return self.headers.get(key, default)

    @property
    def uuid(self) -> str:
        """The channel the event is about (empty for events about none)."""
        return self.headers.get("Unique-ID", "")


class Parser:
    """Feed it bytes as they arrive; it returns each message once complete."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._headers: dict[str, str] | None = None
        self._length = 0

    def feed(self, data: bytes) -> list[Message]:
        self._buffer += data
        out: list[Message] = []
        while True:
            if self._headers is None:
                end = self._buffer.find(b"\n\n")
                if end < 0:
                    if len(self._buffer) > MAX_HEADER_BYTES:
                        raise EslProtocolError(f"a header block longer than {MAX_HEADER_BYTES} bytes")
                    return out
                if end > MAX_HEADER_BYTES:
                    raise EslProtocolError(f"a header block longer than {MAX_HEADER_BYTES} bytes")
                block = bytes(self._buffer[:end]).decode("utf-8", "replace")
                del self._buffer[: end + 2]
                self._headers = _header_lines(block.lstrip("\n"), decode=False)
                self._length = _length(self._headers)
            if len(self._buffer) < self._length:
                return out
            body = bytes(self._buffer[: self._length]).decode("utf-8", "replace")
            del self._buffer[: self._length]
            out.append(Message(self._headers, body))
            self._headers = None
            self._length = 0


def event_of(message: Message) -> Event:
    """A ``text/event-plain`` message's event."""
    text = message.body
    block, _, rest = text.partition("\n\n")
    headers = _header_lines(block, decode=True)
    length = _length(headers)
    return Event(headers, rest.encode()[:length].decode("utf-8", "replace") if length else "")


def command(line: str, headers: Mapping[str, str] | None = None) -> bytes:
    """One command as bytes. Raises :class:`EslActionError` for a value that would end it."""
    parts = [line, *(f"{k}: {v}" for k, v in (headers or {}).items())]
    for part in parts:
        if not part.isprintable():
            raise EslActionError(f"refused event-socket command: control characters in {part!r}")
    return ("\n".join(parts) + "\n\n").encode()


def sendmsg(uuid: str, command_name: str, headers: Mapping[str, str]) -> bytes:
    """``sendmsg`` to one channel: ``call-command`` and its arguments as header lines."""
    return command(f"sendmsg {uuid}", {"call-command": command_name, **headers})


def _header_lines(block: str, *, decode: bool) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.split("\n"):
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise EslProtocolError(f"not a header line: {line[:80]!r}")
        value = value.strip()
        headers[name.strip()] = unquote(value) if decode else value
    return headers


def _length(headers: Mapping[str, str]) -> int:
    raw = headers.get("Content-Length")
    if raw is None:
        return 0
    if not raw.isdigit():
        raise EslProtocolError(f"Content-Length is not a number: {raw[:20]!r}")
    length = int(raw)
    if length > MAX_BODY_BYTES:
        raise EslProtocolError(f"a body of {length} bytes (more than {MAX_BODY_BYTES})")
    return length

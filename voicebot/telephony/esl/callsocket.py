"""FreeSWITCH's outbound event socket: the dialplan's ``socket`` app connects here once per call,
as Asterisk's AGI connects to FastAGI. voicebot takes the call over that connection.

The exchange: voicebot says ``connect`` and gets the channel's data (its uuid and variables);
``myevents`` then brings the channel's own events, and ``linger`` keeps the connection open after
the hang-up so the last of them arrive. Commands to the channel are ``sendmsg`` messages
(``execute`` an application, ``unicast`` its audio, ``hangup``); closing the connection lets
the dialplan go on (``async full``: its next action).

Only the PBX's addresses may connect; the channel data must arrive within
``CONNECT_TIMEOUT`` and within the protocol's bounds; a connection whose channel has no
``VOICEBOT_CALL_ID`` is still handed over (the service decides).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import unquote

from voicebot.errors import ConfigError, EslActionError, EslDisconnected, EslError, EslProtocolError
from voicebot.telephony.esl.protocol import (
    DISCONNECT_NOTICE,
    EVENT_PLAIN,
    Event,
    Message,
    Parser,
    command,
    event_of,
)
from voicebot.telephony.peers import ConnectionCap, PeerFilter

log = logging.getLogger(__name__)

#: The channel data must arrive this soon after the connection.
CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 10.0
MAX_CONNECTIONS = 1000
_READ_SIZE = 65536

CallHandler = Callable[["SocketCall"], Awaitable[None]]


class SocketCall:
    """One call's outbound socket: its channel data, its events, and commands to it."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, parser: Parser, data: Message
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._parser = parser
        # the channel data's values come URL-encoded, as an event's do ("%2B86..." is "+86...")
        self.headers: Mapping[str, str] = {k: unquote(v) for k, v in data.headers.items()}
        self.uuid = self.headers.get("Unique-ID", "")
        self.channel = self.headers.get("Channel-Name", "")
        self.variables = {
            k.removeprefix("variable_"): v for k, v in self.headers.items() if k.startswith("variable_")
        }
        self._replies: asyncio.Queue[Message] = asyncio.Queue()
        self._listeners: list[Callable[[Event], None]] = []
        self.hung_up = asyncio.Event()
        self.hangup_cause = ""
        self._read_task = asyncio.create_task(self._read(), name=f"callsocket-{self.uuid}")

    @property
    def call_id(self) -> str:
        return self.variables.get("VOICEBOT_CALL_ID", "")

    def on_event(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    async def command(self, line: str, headers: Mapping[str, str] | None = None) -> str:
        """A command on this connection; its reply (``+OK ...``), or EslActionError for -ERR."""
        if self._writer.is_closing():
            raise EslDisconnected(f"the call socket of {self.uuid} is closed")
        self._writer.write(command(line, headers))
        try:
            reply = await asyncio.wait_for(self._replies.get(), COMMAND_TIMEOUT)
        except TimeoutError as e:
            raise EslActionError(f"no reply to {line.split(' ', 1)[0]} in {COMMAND_TIMEOUT:.0f} s") from e
        if reply.headers.get("Content-Type") == DISCONNECT_NOTICE:
            raise EslDisconnected(f"the call socket of {self.uuid} closed")
        if not reply.ok:
            raise EslActionError(f"FreeSWITCH refused {line.split(' ', 1)[0]}: {reply.reply}")
        return reply.reply

    async def sendmsg(self, name: str, headers: Mapping[str, str]) -> str:
        return await self.command("sendmsg", {"call-command": name, **headers})

    async def execute(self, app: str, arg: str = "") -> str:
        """Run a dialplan application on the channel (queued behind what it runs now)."""
        return await self.sendmsg("execute", {"execute-app-name": app, "execute-app-arg": arg})

    async def set(self, name: str, value: str) -> str:
        return await self.execute("set", f"{name}={value}")

    async def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        with contextlib.suppress(EslError):
            await self.sendmsg("hangup", {"hangup-cause": cause})

    async def close(self) -> None:
        """Let go of the call: the dialplan goes on with its next action."""
        self._writer.close()
        self._read_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._read_task

    async def _read(self) -> None:
        try:
            while data := await self._reader.read(_READ_SIZE):
                for message in self._parser.feed(data):
                    self._handle(message)
        except EslProtocolError as e:
            log.error("call socket of %s: %s", self.uuid, e.message)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._writer.close()
            self.hung_up.set()
            self._replies.put_nowait(Message({"Content-Type": DISCONNECT_NOTICE}))

    def _handle(self, message: Message) -> None:
        kind = message.content_type
        if kind == EVENT_PLAIN:
            event = event_of(message)
            if event.name in ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE") and event.uuid == self.uuid:
                self.hangup_cause = self.hangup_cause or event.get("Hangup-Cause")
                self.hung_up.set()
            for listener in self._listeners:
                try:
                    listener(event)
                except Exception:
                    log.exception("call socket listener failed on %s", event.name)
        elif kind == DISCONNECT_NOTICE:
            self.hung_up.set()
        else:
            self._replies.put_nowait(message)


class CallSocketServer:
    """Accepts FreeSWITCH's ``socket`` connections, one per call, from the PBX only."""

    def __init__(
        self,
        host: str,
        port: int,
        on_call: CallHandler,
        *,
        peers: PeerFilter | None = None,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.host = host
        self.port = port
        self._on_call = on_call
        self.peers = peers or PeerFilter.loopback(server="call socket")
        self.cap = ConnectionCap(max_connections, server="call socket")
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._accept, self.host, self.port)
        except OSError as e:
            raise ConfigError(
                f"cannot listen for FreeSWITCH's call sockets on {self.host}:{self.port}: {e.strerror}",
                hint="another voicebot may be running; stop it or set VOICEBOT_CALLSOCKET__PORT",
            ) from e
        if self.port == 0:
            self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if not self.peers.admit(writer) or self.cap.full(len(self._handlers), writer):
            return
        self._handlers.add(task)
        call: SocketCall | None = None
        try:
            parser = Parser()
            writer.write(command("connect"))
            data = await asyncio.wait_for(_first(reader, parser), CONNECT_TIMEOUT)
            call = SocketCall(reader, writer, parser, data)
            await call.command("myevents")
            await call.command("linger")
            await self._on_call(call)
        except (TimeoutError, EslError, ConnectionError, OSError) as e:
            peer: Any = writer.get_extra_info("peername")
            log.error("call socket from %s failed: %s", peer, e)
        except Exception:
            log.exception("call handler failed")
        except asyncio.CancelledError:
            pass  # the server is closing: the connection goes below, the call's dialplan goes on
        finally:
            if call is not None:
                await call.close()
            else:
                writer.close()
            self._handlers.discard(task)


async def _first(reader: asyncio.StreamReader, parser: Parser) -> Message:
    while True:
        data = await reader.read(_READ_SIZE)
        if not data:
            raise EslDisconnected("closed before the channel data")
        messages = parser.feed(data)
        if messages:
            if len(messages) > 1 or not messages[0].headers.get("Unique-ID"):
                raise EslProtocolError("the first message is not the channel's data")
            return messages[0]

"""The FastAGI server: Asterisk hands each answered call to a route here.

The dialplan runs ``AGI(agi://HOST:PORT/bot,CALL_ID,LEAD,CAMPAIGN)``; arguments
arrive as ``agi_arg_N`` headers (routes match the script path exactly, so no
query strings). panoramisk provides routing and command exchange; the request
header read is replaced with one that has a timeout and survives EOF.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from panoramisk.fast_agi import Application, Request

from voicebot.errors import AgiError, ConfigError
from voicebot.telephony.peers import ConnectionCap, PeerFilter

log = logging.getLogger(__name__)

HEADER_TIMEOUT = 5.0
MAX_HEADER_BYTES = 16_384
#: How long a command's answer may take (a command that runs the call, EXEC AudioSocket, says).
COMMAND_TIMEOUT = 10.0
#: FastAGI connections open at once; beyond, new ones are closed (every call holds one).
MAX_CONNECTIONS = 1000
BOT_ROUTE = "bot"
#: AGI(agi://HOST:PORT/machine,CALL_ID,AMDCAUSE): the dialplan's AMD found an answering machine.
MACHINE_ROUTE = "machine"
#: AGI(agi://HOST:PORT/whisper,CALL_ID) on an agent's channel: who is coming, before the bridge.
WHISPER_ROUTE = "whisper"
#: AGI(agi://HOST:PORT/back,CALL_ID,QUEUESTATUS): no agent took the call in time, the bot takes it back.
BACK_ROUTE = "back"
#: AGI(agi://HOST:PORT/inbound,LINKEDID,CALLERID,EXTEN): a callee calls the number the robot showed.
INBOUND_ROUTE = "inbound"
#: AGI arguments read (Asterisk passes at most 127; voicebot's routes use 3).
MAX_ARGS = 8


@dataclass(frozen=True, slots=True)
class AgiCall:
    """What Asterisk told us about a call entering the bot."""

    call_id: str
    channel: str
    uniqueid: str
    caller_id: str
    lead_id: str
    campaign_id: str
    request: Request
    #: agi_arg_1..: every argument, stripped (call_id, lead_id and campaign_id are the first three)
    args: tuple[str, ...] = ()

    @classmethod
    def from_request(cls, request: Request) -> AgiCall:
        h = request.headers
        return cls(
            call_id=h.get("agi_arg_1", "").strip(),
            channel=h.get("agi_channel", ""),
            uniqueid=h.get("agi_uniqueid", ""),
            caller_id=h.get("agi_callerid", ""),
            lead_id=h.get("agi_arg_2", "").strip(),
            campaign_id=h.get("agi_arg_3", "").strip(),
            request=request,
            args=tuple(h.get(f"agi_arg_{i}", "").strip() for i in range(1, MAX_ARGS + 1)),
        )

    async def command(self, command: str, *, timeout: float = COMMAND_TIMEOUT) -> dict[str, Any]:
        """Send one AGI command; raises AgiError when the channel is gone, the command fails,
        or its answer takes longer than ``timeout``."""
        if not command.isprintable():  # a newline would start a second command
            raise AgiError(f"refused an AGI command with control characters: {command!r}")
        try:
            result: dict[str, Any] = await asyncio.wait_for(self.request.send_command(command), timeout)
        except TimeoutError as e:
            raise AgiError(f"AGI {command.split()[0]} got no answer in {timeout:g} s") from e
        except (ConnectionError, OSError, ValueError) as e:
            # panoramisk reads a connection closed mid-answer (the PBX went down) as an empty,
            # unparsable result line
            raise AgiError(f"AGI connection lost during {command.split()[0]}") from e
        if "error" in result:
            raise AgiError(f"AGI {command.split()[0]} failed: {result.get('error')} {result.get('msg', '')}")
        return result


CallHandler = Callable[[AgiCall], Awaitable[None]]


class AgiServer:
    """FastAGI: route ``bot`` passes each call to ``on_call``; ``machine`` (the dialplan's
    AMD found an answering machine; the second argument is AMDCAUSE) to ``on_machine``;
    ``routes`` adds more (the warm transfer's ``whisper`` and ``back``)."""

    def __init__(
        self,
        host: str,
        port: int,
        on_call: CallHandler,
        on_machine: CallHandler | None = None,
        *,
        routes: Mapping[str, CallHandler] | None = None,
        peers: PeerFilter | None = None,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.host = host
        #: Who may connect: the PBX (by default, this machine only).
        self.peers = peers or PeerFilter.loopback(server="FastAGI")
        self.cap = ConnectionCap(max_connections, server="FastAGI")
        self.port = port
        self._on_call = on_call
        self._on_machine = on_machine
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._app = Application(loop=asyncio.get_running_loop())
        self._app.add_route(BOT_ROUTE, self._bot)
        if on_machine is not None:
            self._app.add_route(MACHINE_ROUTE, self._machine)
        for name, handler in (routes or {}).items():  # whisper, back: the warm transfer's routes
            self._app.add_route(name, functools.partial(self._route, handler))

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self.handler, self.host, self.port)
        except OSError as e:
            raise ConfigError(
                f"cannot listen for FastAGI on {self.host}:{self.port}: {e.strerror}",
                hint="another voicebot may be running; stop it or set VOICEBOT_AGI__PORT "
                "(and the AGI address the dialplan uses)",
            ) from e
        if self.port == 0:
            self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if not self.peers.admit(writer):
            return
        if self.cap.full(len(self._tasks), writer):
            return
        self._tasks.add(task)
        try:
            headers = await asyncio.wait_for(_read_headers(reader), HEADER_TIMEOUT)
        except (TimeoutError, AgiError, ConnectionError) as e:
            log.error("bad FastAGI request from %s: %s", writer.get_extra_info("peername"), e)
            writer.close()
            self._tasks.discard(task)
            return
        script = headers.get("agi_network_script", "")
        route = self._app._route.get(script)
        try:
            if route is None:
                log.error("FastAGI request for unknown route %r (voicebot serves %r)", script, BOT_ROUTE)
                writer.write(b"HANGUP\n")
            else:
                await route(Request(self._app, headers, reader, writer, self._app.default_encoding))
        except Exception:
            log.exception("FastAGI route %r failed", script)
        finally:
            writer.close()
            self._tasks.discard(task)

    async def _bot(self, request: Request) -> None:
        await self._on_call(AgiCall.from_request(request))

    async def _route(self, handler: CallHandler, request: Request) -> None:
        await handler(AgiCall.from_request(request))

    async def _machine(self, request: Request) -> None:
        assert self._on_machine is not None
        await self._on_machine(AgiCall.from_request(request))


async def _read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    buffer = b""
    while b"\n\n" not in buffer:
        chunk = await reader.read(1024)
        if not chunk:
            raise AgiError("connection closed before the AGI headers ended")
        buffer += chunk
        if len(buffer) > MAX_HEADER_BYTES:
            raise AgiError("AGI headers larger than 16 KiB")
    head = buffer.split(b"\n\n", 1)[0].decode("utf-8", errors="replace")
    return dict(line.split(": ", 1) for line in head.split("\n") if ": " in line)

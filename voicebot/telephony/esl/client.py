"""One logged-in connection to FreeSWITCH's event socket that heals itself, like AmiClient.

FreeSWITCH answers commands in the order they were sent, with events in between; so each
command waits in a queue for the next reply. ``bgapi`` commands answer at once with a job id
and later with a BACKGROUND_JOB event: :meth:`EslClient.bgapi` returns a future of that result.

When the connection drops, every command waiting fails with :class:`EslDisconnected` and
nothing is re-sent (an originate sent twice could dial a lead twice); the client reconnects with
backoff and then runs the ``on_reconnect`` callbacks, so the PBX layer can reconcile its calls.
A connection that freezes without closing is found by a keepalive (``api status`` must answer
within ``keepalive`` seconds) and dropped like a closed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, BinaryIO

from voicebot.errors import (
    EslActionError,
    EslAuthError,
    EslConnectError,
    EslDisconnected,
    EslProtocolError,
)
from voicebot.telephony.esl.protocol import (
    AUTH_REQUEST,
    DISCONNECT_NOTICE,
    EVENT_PLAIN,
    RUDE_REJECTION,
    Event,
    Message,
    Parser,
    command,
    event_of,
    sendmsg,
)

log = logging.getLogger(__name__)

EventListener = Callable[[Event], None]
#: What voicebot follows calls by (every event name must be allowed to its ESL user).
CALL_EVENTS = (
    "CHANNEL_CREATE",
    "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_ANSWER",
    "CHANNEL_HANGUP",
    "CHANNEL_HANGUP_COMPLETE",
    "BACKGROUND_JOB",
    "SHUTDOWN",
    "HEARTBEAT",
)
_READ_SIZE = 65536


class EslClient:
    """An inbound event-socket connection: ``auth PASSWORD``, or ``userauth USER@DOMAIN:PASSWORD``
    when ``user`` is given (a directory user whose ESL rights are limited)."""

    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        *,
        user: str = "",
        events: Iterable[str] = CALL_EVENTS,
        connect_timeout: float = 10.0,
        command_timeout: float = 10.0,
        reconnect_max_delay: float = 10.0,
        keepalive: float = 5.0,
        save_stream: BinaryIO | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.user = user
        self._password = password
        self.events = tuple(events)
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.reconnect_max_delay = reconnect_max_delay
        self.keepalive = keepalive
        self._save_stream = save_stream  # every byte received, for recording fixtures
        self._listeners: list[EventListener] = []
        self._reconnect_callbacks: list[Callable[[], Any]] = []
        #: commands waiting for their reply, in the order sent (with a bgapi's job result)
        self._replies: deque[tuple[asyncio.Future[Message], asyncio.Future[str] | None]] = deque()
        self._jobs: dict[str, asyncio.Future[str]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._reconnector: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self.reconnects = 0

    # -- lifecycle --------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def connect(self) -> None:
        """Connect and log in, retrying with backoff for ``connect_timeout`` seconds. A refused
        login is not retried: it raises :class:`EslAuthError` at once."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout
        delay = 0.2
        while True:
            try:
                await self._open(min(5.0, max(0.5, deadline - loop.time())))
                return
            except EslConnectError as e:
                if loop.time() + delay >= deadline:
                    raise EslConnectError(
                        f"cannot reach FreeSWITCH's event socket at {self.host}:{self.port} after "
                        f"{self.connect_timeout:.0f} s: {e.message}",
                        hint="start FreeSWITCH (scripts/freeswitch.sh start) or set "
                        "VOICEBOT_ESL__HOST/PORT; check event_socket.conf.xml's listen-ip and its ACL",
                    ) from e
                log.warning("event socket not reachable (%s); retrying in %.1f s", e.message, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def close(self) -> None:
        self._closing = True
        for task in (self._reconnector, self._watchdog):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._drop()
        if self._reader_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
        self._fail_pending(EslDisconnected("event-socket client closed"))

    def on_event(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def on_reconnect(self, callback: Callable[[], Any]) -> None:
        self._reconnect_callbacks.append(callback)

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    # -- commands ---------------------------------------------------------------------
    async def api(self, line: str, *, timeout: float | None = None, check: bool = True) -> str:
        """An API command's answer (``api LINE``); ``-ERR ...`` raises unless ``check`` is off."""
        message = await self._send(command(f"api {line}"), line, timeout)
        if check and not message.ok:
            raise EslActionError(f"FreeSWITCH {line.split(' ', 1)[0]} failed: {message.reply}")
        return message.body

    async def bgapi(self, line: str, *, timeout: float | None = None) -> asyncio.Future[str]:
        """Start an API command in the background: a future of its result (``+OK ...`` or
        ``-ERR ...``), which fails with :class:`EslDisconnected` if the connection drops first."""
        job: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        job.add_done_callback(_retrieved)
        message = await self._send(command(f"bgapi {line}"), line, timeout, job)
        if not message.ok or not message.headers.get("Job-UUID"):
            job.cancel()
            raise EslActionError(f"FreeSWITCH refused bgapi {line.split(' ', 1)[0]}: {message.reply}")
        return job

    async def sendmsg(
        self, uuid: str, name: str, headers: Mapping[str, str], *, timeout: float | None = None
    ) -> str:
        """A command to one channel (``call-command: NAME``, e.g. ``unicast``, ``hangup``)."""
        message = await self._send(sendmsg(uuid, name, headers), f"sendmsg {name}", timeout)
        if not message.ok:
            raise EslActionError(f"FreeSWITCH refused {name} on {uuid}: {message.reply}")
        return message.reply

    async def _send(
        self, data: bytes, what: str, timeout: float | None, job: asyncio.Future[str] | None = None
    ) -> Message:
        writer = self._writer
        if writer is None or not self.connected:
            raise EslDisconnected(
                f"the event socket is not connected; cannot send {what.split(' ', 1)[0]}",
                hint="the connection is being re-established; retry shortly",
            )
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieved)  # it may fail after its caller stopped waiting
        self._replies.append((future, job))
        writer.write(data)
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout or self.command_timeout)
        except TimeoutError as e:
            raise EslActionError(
                f"FreeSWITCH {what.split(' ', 1)[0]} got no answer in {timeout or self.command_timeout:.0f} s"
            ) from e

    # -- connection internals ---------------------------------------------------------
    async def _open(self, timeout: float) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), timeout)
        except (OSError, TimeoutError) as e:
            raise EslConnectError(str(e) or type(e).__name__) from e
        parser = Parser()
        backlog: list[Message] = []
        try:
            request = await asyncio.wait_for(self._next(reader, parser, backlog), timeout)
            if request.content_type == RUDE_REJECTION:
                raise EslAuthError(
                    f"FreeSWITCH's event socket at {self.host}:{self.port} refused this host: "
                    f"{request.body.strip()}",
                    hint="add this host to event_socket.conf.xml's apply-inbound-acl",
                )
            if request.content_type != AUTH_REQUEST:
                raise EslConnectError(f"no auth request (is {self.host}:{self.port} really an event socket?)")
            login = f"userauth {self.user}:{self._password}" if self.user else f"auth {self._password}"
            writer.write(command(login))
            reply = await asyncio.wait_for(self._next(reader, parser, backlog), timeout)
            if not reply.ok:
                raise EslAuthError(
                    f"FreeSWITCH's event socket at {self.host}:{self.port} refused the login"
                    f"{' as ' + self.user if self.user else ''}: {reply.reply}",
                    hint="check VOICEBOT_ESL__PASSWORD (and VOICEBOT_ESL__USER) against "
                    "event_socket.conf.xml or the directory user's esl-password",
                )
            writer.write(command(f"event plain {' '.join(self.events)}"))
            subscribed = await asyncio.wait_for(self._next(reader, parser, backlog), timeout)
            if not subscribed.ok:
                raise EslAuthError(
                    f"FreeSWITCH refused voicebot's events: {subscribed.reply}",
                    hint="the ESL user's esl-allowed-events must list: " + " ".join(self.events),
                )
        except (EslConnectError, EslAuthError, EslProtocolError):
            writer.close()
            raise
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as e:
            writer.close()
            raise EslConnectError(f"login failed: {e or type(e).__name__}") from e
        self._writer = writer
        self._connected.set()
        for message in backlog:  # events that came with the last login reply
            self._handle(message)
        loop = asyncio.get_running_loop()
        self._reader_task = loop.create_task(self._read(reader, parser, writer), name="esl-reader")
        if self.keepalive > 0:
            self._watchdog = loop.create_task(self._watch(writer), name="esl-keepalive")
        log.info(
            "event socket connected to %s:%s%s", self.host, self.port, f" as {self.user}" if self.user else ""
        )

    async def _next(self, reader: asyncio.StreamReader, parser: Parser, backlog: list[Message]) -> Message:
        """The next message during login (before the reader task runs); more than one in a read
        (a refusal and the disconnect notice after it) wait in ``backlog``."""
        while not backlog:
            data = await reader.read(_READ_SIZE)
            if not data:
                raise EslConnectError("connection closed during login")
            self._save(data)
            backlog.extend(parser.feed(data))
        return backlog.pop(0)

    def _save(self, data: bytes) -> None:
        if self._save_stream is not None:
            self._save_stream.write(data)

    async def _read(self, reader: asyncio.StreamReader, parser: Parser, writer: asyncio.StreamWriter) -> None:
        error: BaseException | None = None
        try:
            while True:
                data = await reader.read(_READ_SIZE)
                if not data:
                    break
                self._save(data)
                for message in parser.feed(data):
                    self._handle(message)
        except EslProtocolError as e:
            log.error("event socket: %s; dropping the connection", e.message)
            error = e
        except (OSError, asyncio.CancelledError) as e:
            error = e
        finally:
            writer.close()
            if self._writer is writer:
                self._lost(error)

    def _handle(self, message: Message) -> None:
        kind = message.content_type
        if kind == EVENT_PLAIN:
            self._dispatch(event_of(message))
        elif kind == DISCONNECT_NOTICE:
            log.warning("FreeSWITCH said it is disconnecting: %s", message.body.strip()[:200])
        elif self._replies:
            future, job = self._replies.popleft()
            uuid = message.headers.get("Job-UUID")
            if job is not None and uuid and not job.done():
                # known before the reply's reader resumes: the job's event may be in this read
                self._jobs[uuid] = job
                job.add_done_callback(lambda _f: self._jobs.pop(uuid, None))
            if not future.done():
                future.set_result(message)

    def _dispatch(self, event: Event) -> None:
        if event.name == "BACKGROUND_JOB":
            future = self._jobs.get(event.get("Job-UUID"))
            if future is not None and not future.done():
                future.set_result(event.body)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event-socket listener failed on %s", event.name)

    async def _watch(self, writer: asyncio.StreamWriter) -> None:
        """``api status`` every ``keepalive`` seconds; a connection that does not answer in time
        is dropped (and re-established)."""
        while self._writer is writer and self.connected:
            await asyncio.sleep(self.keepalive)
            try:
                await self.api("status", timeout=self.keepalive)
            except EslDisconnected:
                return
            except EslActionError:
                if self._writer is not writer or not self.connected:
                    return
                log.warning("event socket not answering (no status in %.0f s); dropping it", self.keepalive)
                writer.transport.abort()
                return

    def _drop(self) -> None:
        if self._writer is not None:
            self._writer.transport.abort()

    def _lost(self, error: BaseException | None) -> None:
        was_connected = self.connected
        self._connected.clear()
        self._writer = None
        if self._watchdog is not None and self._watchdog is not asyncio.current_task():
            self._watchdog.cancel()
        self._fail_pending(EslDisconnected("event socket lost while waiting for an answer"))
        if self._closing or not was_connected:
            return
        log.warning("event socket connection lost (%s); reconnecting", error or "closed by FreeSWITCH")
        if self._reconnector is None or self._reconnector.done():
            self._reconnector = asyncio.get_running_loop().create_task(
                self._reconnect(), name="esl-reconnect"
            )

    async def _reconnect(self) -> None:
        delay = 0.2
        while not self._closing:
            await asyncio.sleep(delay)
            try:
                await self._open(5.0)
            except (EslConnectError, EslAuthError, EslProtocolError) as e:
                delay = min(delay * 2, self.reconnect_max_delay)
                log.warning("event socket reconnect failed (%s); next try in %.1f s", e.message, delay)
                continue
            self.reconnects += 1
            for callback in self._reconnect_callbacks:
                result = callback()
                if asyncio.iscoroutine(result):
                    try:
                        await result
                    except Exception:
                        log.exception("event-socket reconnect callback failed")
            return

    def _fail_pending(self, error: Exception) -> None:
        while self._replies:
            future, waiting = self._replies.popleft()
            if not future.done():
                future.set_exception(error)
            if waiting is not None and not waiting.done():
                waiting.set_exception(error)
        for job in list(self._jobs.values()):
            if not job.done():
                job.set_exception(error)
        self._jobs.clear()


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a future's exception as seen (nobody may be awaiting it any more)."""
    if not future.cancelled():
        future.exception()

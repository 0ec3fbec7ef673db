"""AMI over panoramisk: login with retry, reconnect after drops, actions with timeouts.

panoramisk parses the protocol and matches responses to actions; this module owns
the connection's life. panoramisk's own reconnect is replaced: it retries on a
fixed delay forever and re-sends queued actions after a reconnect, which for an
Originate could dial a lead twice. Here every action waiting when the
connection drops fails with :class:`AmiDisconnected`, and nothing is re-sent.

A connection can also freeze without closing (a stuck PBX thread, a half-dead
NAT or firewall): panoramisk's ping never checks its answer. Here a keepalive
Ping must be answered within ``keepalive`` seconds, or the connection is
dropped and re-established like a closed one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from voicebot.errors import AmiActionError, AmiAuthError, AmiConnectError, AmiDisconnected

log = logging.getLogger(__name__)

EventListener = Callable[[Message], None]
#: Emitted by Debian's debug build several times a second; never useful here.
_IGNORED_EVENTS = frozenset({"TestEvent", "RTCPSent", "RTCPReceived"})


class _Manager(Manager):  # type: ignore[misc]
    """panoramisk's Manager with reconnects handed to :class:`AmiClient`."""

    def __init__(self, client: AmiClient, **config: Any) -> None:
        super().__init__(**config)
        self._client = client

    pinger: asyncio.TimerHandle | None

    def connection_lost(self, exc: Exception | None) -> None:
        self._connected = False
        if self.pinger:
            self.pinger.cancel()
            self.pinger = None
        self.awaiting_actions.clear()
        self._client._connection_lost(exc)


class AmiClient:
    """One logged-in AMI connection that heals itself.

    ``on_event`` listeners see every event; ``on_reconnect`` callbacks run after
    each successful reconnect (to reconcile state missed while down).
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        connect_timeout: float = 10.0,
        action_timeout: float = 10.0,
        reconnect_max_delay: float = 10.0,
        keepalive: float = 5.0,
        save_stream: Any = None,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._secret = secret
        self.connect_timeout = connect_timeout
        self.action_timeout = action_timeout
        self.reconnect_max_delay = reconnect_max_delay
        self.keepalive = keepalive
        self._save_stream = save_stream  # a binary file: every byte received, for recording fixtures
        self._manager: _Manager | None = None
        self._listeners: list[EventListener] = []
        self._reconnect_callbacks: list[Callable[[], Any]] = []
        self._pending: set[asyncio.Future[Any]] = set()
        self._connected = asyncio.Event()
        self._closing = False
        self._reconnector: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self.reconnects = 0

    # -- lifecycle --------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def connect(self) -> None:
        """Connect and log in, retrying with backoff for ``connect_timeout`` seconds.

        A refused login is not retried: it raises :class:`AmiAuthError` at once.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout
        delay = 0.2
        while True:
            try:
                await self._open(min(5.0, max(0.5, deadline - loop.time())))
                return
            except AmiConnectError as e:
                if loop.time() + delay >= deadline:
                    raise AmiConnectError(
                        f"cannot reach AMI at {self.host}:{self.port} after "
                        f"{self.connect_timeout:.0f} s: {e.message}",
                        hint="start Asterisk (scripts/pbx.sh start) or set VOICEBOT_AMI__HOST/PORT; "
                        "check manager.conf has enabled = yes",
                    ) from e
                log.warning("AMI not reachable (%s); retrying in %.1f s", e.message, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def close(self) -> None:
        self._closing = True
        for task in (self._reconnector, self._watchdog):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._manager is not None:
            self._manager.close()
        self._connected.clear()
        self._fail_pending(AmiDisconnected("AMI client closed"))

    def on_event(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def on_reconnect(self, callback: Callable[[], Any]) -> None:
        self._reconnect_callbacks.append(callback)

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    # -- actions ----------------------------------------------------------------------
    async def action(
        self,
        action: dict[str, Any],
        *,
        timeout: float | None = None,
        as_list: bool | None = None,
        check: bool = True,
    ) -> Any:
        """Send an action and wait for its complete answer (a Message, or a list for event lists)."""
        if self._manager is None or not self.connected:
            raise AmiDisconnected(
                f"AMI is not connected; cannot send {action.get('Action')}",
                hint="the connection is being re-established; retry shortly",
            )
        check_values(action)
        future: asyncio.Future[Any] = self._manager.send_action(dict(action), as_list=as_list)
        self._pending.add(future)
        try:
            result = await asyncio.wait_for(asyncio.shield(future), timeout or self.action_timeout)
        except TimeoutError as e:
            raise AmiActionError(
                f"AMI {action.get('Action')} got no answer in {timeout or self.action_timeout:.0f} s"
            ) from e
        finally:
            self._pending.discard(future)
        first = result[0] if isinstance(result, list) else result
        if check and first.response in ("Error", "Fail", "Failure"):
            raise AmiActionError(f"AMI {action.get('Action')} failed: {first.message}")
        return result

    def send_nowait(self, action: dict[str, Any], *, as_list: bool | None = None) -> asyncio.Future[Any]:
        """Send an action; its future fails with AmiDisconnected if the connection drops."""
        if self._manager is None or not self.connected:
            raise AmiDisconnected(f"AMI is not connected; cannot send {action.get('Action')}")
        check_values(action)
        future: asyncio.Future[Any] = self._manager.send_action(dict(action), as_list=as_list)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    async def function(self, expression: str) -> str:
        """The value of a dialplan function such as ``IFMODULE(app_queue.so)``, read with
        ``Getvar`` and no channel: needs only the ``call`` write class, not ``system`` or
        ``command``. Empty when the function is not loaded."""
        result = await self.action({"Action": "Getvar", "Variable": expression})
        return str(result.get("Value") or "")

    async def may(self, action: dict[str, Any]) -> bool:
        """Whether this user is permitted ``action`` (sent as is: give a harmless one)."""
        result = await self.action(action, check=False)
        first = result[0] if isinstance(result, list) else result
        return not (first.response == "Error" and "denied" in str(first.message or "").lower())

    # -- connection internals ---------------------------------------------------------
    async def _open(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        manager = _Manager(
            self,
            loop=loop,
            host=self.host,
            port=self.port,
            username=self.username,
            secret=self._secret,
            ping_delay=10**9,  # our watchdog pings, and checks the answer
            ping_interval=10**9,
            forgetable_actions=("ping", "login"),
            save_stream=self._save_stream,
        )
        manager.register_event("*", self._dispatch)
        try:
            transport, protocol = await asyncio.wait_for(
                loop.create_connection(AMIProtocol, self.host, self.port), timeout
            )
        except (OSError, TimeoutError) as e:
            raise AmiConnectError(str(e) or type(e).__name__) from e
        connected: asyncio.Future[tuple[Any, Any]] = loop.create_future()
        connected.set_result((transport, protocol))
        manager.connection_made(connected)
        login = manager.authenticated_future
        try:
            response = await asyncio.wait_for(asyncio.shield(login), timeout)
        except (TimeoutError, asyncio.CancelledError) as e:
            manager.close()
            raise AmiConnectError("no answer to Login (is this port really AMI?)") from e
        if not response.success:
            manager.close()
            raise AmiAuthError(
                f"AMI at {self.host}:{self.port} refused login as {self.username!r}: {response.message}",
                hint="check VOICEBOT_AMI__USERNAME/SECRET against manager.conf, and that its "
                "permit= allows this host",
            )
        self._manager = manager
        self._connected.set()
        if self.keepalive > 0:
            self._watchdog = loop.create_task(self._watch(manager), name="ami-keepalive")
        log.info("AMI connected to %s:%s as %s", self.host, self.port, self.username)

    async def _watch(self, manager: _Manager) -> None:
        """Ping every ``keepalive`` seconds; a connection that does not answer in time is dropped."""
        while self._manager is manager and self.connected:
            await asyncio.sleep(self.keepalive)
            try:
                await self.action({"Action": "Ping"}, timeout=self.keepalive)
            except AmiDisconnected:
                return  # closed meanwhile: the reconnect is under way
            except AmiActionError:
                if self._manager is not manager or not self.connected:
                    return
                log.warning(
                    "AMI not answering (no reply to Ping in %.0f s); dropping the connection", self.keepalive
                )
                manager.protocol.transport.abort()  # connection_lost follows: reconnect
                return

    def _connection_lost(self, exc: Exception | None) -> None:
        was_connected = self.connected
        self._connected.clear()
        if self._watchdog is not None and self._watchdog is not asyncio.current_task():
            self._watchdog.cancel()
        self._fail_pending(AmiDisconnected("AMI connection lost while waiting for an answer"))
        if self._closing or not was_connected:
            return
        log.warning("AMI connection lost (%s); reconnecting", exc)
        if self._reconnector is None or self._reconnector.done():
            self._reconnector = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        delay = 0.2
        while not self._closing:
            await asyncio.sleep(delay)
            try:
                await self._open(5.0)
            except (AmiConnectError, AmiAuthError) as e:
                delay = min(delay * 2, self.reconnect_max_delay)
                log.warning("AMI reconnect failed (%s); next try in %.1f s", e.message, delay)
                continue
            self.reconnects += 1
            for callback in self._reconnect_callbacks:
                result = callback()
                if asyncio.iscoroutine(result):
                    try:
                        await result
                    except Exception:
                        log.exception("AMI reconnect callback failed")
            return

    def _fail_pending(self, error: Exception) -> None:
        for future in list(self._pending):
            if not future.done():
                future.set_exception(error)
        self._pending.clear()

    def _dispatch(self, _manager: Manager, message: Message) -> None:
        if message.event in _IGNORED_EVENTS:
            return
        for listener in self._listeners:
            try:
                listener(message)
            except Exception:
                log.exception("AMI event listener failed on %s", message.event)


def check_values(action: dict[str, Any]) -> None:
    """Every key and value of an action on one line: a CR or LF would start a second action."""
    for key, value in action.items():
        for text in [key, *(value if isinstance(value, list | tuple) else [value])]:
            if not str(text).isprintable():
                raise AmiActionError(
                    f"refused AMI {action.get('Action')}: {key} holds control characters ({text!r})"
                )

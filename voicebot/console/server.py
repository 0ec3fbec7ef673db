"""The console served: uvicorn in voicebot's own event loop, beside the calls."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator

import uvicorn

from voicebot.config import Settings
from voicebot.console.desk import Desk
from voicebot.console.preview import PreviewCalls
from voicebot.console.web import Console
from voicebot.store import Store
from voicebot.telephony.pbx import Pbx
from voicebot.telephony.queues import AgentQueues

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # voicebot's command owns SIGINT/SIGTERM and stops the console with the rest


class ConsoleServer:
    """The console's web server, its agents' desk, and their queue events from the PBX."""

    def __init__(self, store: Store, queues: AgentQueues, pbx: Pbx, settings: Settings) -> None:
        self.settings = settings.console
        self.desk = Desk(store, queues, grace=self.settings.screen_grace)
        self.preview = PreviewCalls(store, pbx, settings, self.desk)
        self.console = Console(store, self.desk, settings, preview=self.preview)
        queues.on_event(self.desk.on_queue_event)
        queues.on_reconnect(self.desk.reassert)
        self._queues = queues
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = self.settings.port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.settings.host in ("0.0.0.0", "::", "") else self.settings.host
        return f"http://{host}:{self.port}/"

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.settings.host, self.settings.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.console.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            proxy_headers=False,
            server_header=False,
            limit_concurrency=500,  # SSE streams count: 50 agents' screens and more are room to spare
            timeout_keep_alive=5,
            timeout_graceful_shutdown=2,
            h11_max_incomplete_event_size=16 * 1024,
        )
        self._server = _Server(config)
        await self.desk.start()
        if self._queues.connected:
            await self.desk.reassert()
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="console")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
            await asyncio.sleep(0.01)
        log.info("console on %s", self.url)

    async def close(self) -> None:
        self.console.closing.set()
        self.desk.hang_up_screens()
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.preview.close()
        await self.desk.close()

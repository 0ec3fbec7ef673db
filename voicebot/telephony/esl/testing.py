"""Replay of recorded event-socket exchanges, for fast tests of the real client and PBX layer.

A recording (``tests/tools/record_esl.py``) holds every byte FreeSWITCH sent on one connection.
:class:`ReplayServer` listens on the loopback and plays it to the first client that connects, as
FreeSWITCH did: the auth request at once, then for each command the client sends, the messages
that came before its reply and the reply itself; after the last reply, the rest (the call's
remaining events). Every command received is kept in ``commands``.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from voicebot.telephony.esl.protocol import API_RESPONSE, COMMAND_REPLY, Message, Parser

_REPLIES = (COMMAND_REPLY, API_RESPONSE)


def load_recording(path: Path) -> tuple[dict[str, str], list[tuple[Message, bytes]]]:
    """(header fields, each message with its raw bytes) of a recording."""
    raw = path.read_bytes()
    header: dict[str, str] = {}
    while raw.startswith(b"# "):
        line, _, raw = raw.partition(b"\n")
        key, _, value = line[2:].decode().partition(": ")
        header[key] = value
    messages: list[tuple[Message, bytes]] = []
    parser = Parser()
    start = 0
    for end in range(1, len(raw) + 1):  # byte by byte: each message's own bytes
        for message in parser.feed(raw[end - 1 : end]):
            messages.append((message, raw[start:end]))
            start = end
    return header, messages


class ReplayServer:
    def __init__(self, path: Path) -> None:
        self.header, self._messages = load_recording(path)
        self.call_id = self.header["call_id"]
        self.commands: list[str] = []
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Listen on 127.0.0.1; the port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._handlers):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            queue = list(self._messages)
            # the auth request goes out at once
            writer.write(queue.pop(0)[1])
            while any(m.content_type in _REPLIES for m, _ in queue):
                line = (await reader.readuntil(b"\n\n")).decode().strip()
                self.commands.append(line)
                while queue:
                    message, raw = queue.pop(0)
                    writer.write(raw)
                    if message.content_type in _REPLIES:
                        break
                await writer.drain()
            for _, raw in queue:
                writer.write(raw)
            await writer.drain()
            await reader.read()  # until the client closes
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self._handlers.discard(task)

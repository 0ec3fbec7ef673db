"""Replay of recorded AMI exchanges, for fast tests of call following.

A recording (``tests/tools/record_ami.py``) holds one Originate's messages in
arrival order. :class:`ReplayAmi` stands in for :class:`AmiClient`: when the
Originate is sent it plays the recording back, resolving the action's future
the way panoramisk does (with the queued response and the OriginateResponse)
and dispatching every other message as an event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from panoramisk.message import Message

from voicebot.telephony.ami import EventListener


def load_messages(path: Path) -> tuple[dict[str, str], list[Message]]:
    """(header fields, messages) of a recording."""
    header: dict[str, str] = {}
    messages = []
    body = []
    for line in path.read_text().splitlines():
        if line.startswith("# ") and ": " in line:
            key, _, value = line[2:].partition(": ")
            header[key] = value
        else:
            body.append(line)
    for block in "\n".join(body).split("\n\n"):
        block = block.strip("\n")
        if not block:
            continue
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, _, value = line.partition(": ")
            fields[key] = value.strip() if ": " in line else ""
        messages.append(Message(fields))
    return header, messages


class ReplayAmi:
    """Just enough of :class:`AmiClient` for :class:`AsteriskPbx`, driven by a recording."""

    def __init__(self, path: Path) -> None:
        self.header, self.messages = load_messages(path)
        self.call_id = self.header["call_id"]
        self._listeners: list[EventListener] = []
        self.sent: list[dict[str, Any]] = []
        self.connected = True

    def on_event(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def on_reconnect(self, _callback: Callable[[], Any]) -> None:
        pass

    def send_nowait(self, action: dict[str, Any], *, as_list: bool | None = None) -> asyncio.Future[Any]:
        self.sent.append(action)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(self._play, future)
        return future

    async def action(self, action: dict[str, Any], **_: Any) -> Any:
        self.sent.append(action)
        return Message({"Response": "Success"})

    def _play(self, future: asyncio.Future[Any]) -> None:
        responses: list[Message] = []
        for message in self.messages:
            if message.get("Event") in ("", None) or message.get("Event") == "OriginateResponse":
                responses.append(message)
                if message.get("Event") == "OriginateResponse" and not future.done():
                    future.set_result(responses)
                continue
            for listener in self._listeners:
                listener(message)

"""The FastAGI server against stalled and too many connections (a test client plays Asterisk).

Its twin against the real Asterisk is every call test in tests/integration.
"""

from __future__ import annotations

import asyncio
import uuid

from voicebot.errors import AgiError
from voicebot.telephony.agi import AgiServer


def headers(call_id: str) -> bytes:
    lines = ["agi_network: yes", "agi_network_script: bot", "agi_channel: PJSIP/x", f"agi_arg_1: {call_id}"]
    return ("\n".join(lines) + "\n\n").encode()


async def test_a_command_without_an_answer_times_out_and_frees_the_connection():
    errors: list[str] = []

    async def on_call(call):
        try:
            await call.command("ANSWER", timeout=0.3)
        except AgiError as e:
            errors.append(e.message)

    server = AgiServer("127.0.0.1", 0, on_call)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(headers(str(uuid.uuid4())))  # then never answers a command
        assert await asyncio.wait_for(reader.readline(), 2) == b"ANSWER\n"
        assert await asyncio.wait_for(reader.read(), 2) == b""  # closed after the timeout
        writer.close()
    finally:
        await server.close()
    assert errors == ["AGI ANSWER got no answer in 0.3 s"]


async def test_connections_beyond_the_cap_are_closed_at_once():
    release = asyncio.Event()

    async def on_call(call):
        await release.wait()

    server = AgiServer("127.0.0.1", 0, on_call, max_connections=2)
    await server.start()
    clients = []
    try:
        for _ in range(2):
            clients.append(await asyncio.open_connection("127.0.0.1", server.port))
            clients[-1][1].write(headers(str(uuid.uuid4())))
        await asyncio.sleep(0.2)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            data = await asyncio.wait_for(reader.read(), 2)
        except ConnectionResetError:  # aborted: as good as closed
            data = b""
        assert data == b"" and server.cap.refused == 1
        writer.close()
    finally:
        release.set()
        for _, w in clients:
            w.close()
        await server.close()

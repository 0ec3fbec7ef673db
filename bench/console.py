"""The console under a full floor: 50 agents and 200 calls up; prints figures, asserts nothing.

    set -a; eval "$(scripts/pbx.sh env)"; set +a
    .venv/bin/python bench/console.py [--agents 50] [--calls 200]

A real SQLite store holds a running campaign, the agents (each with a state) and the calls
up (ringing, with the robot, waiting for an agent, with an agent); the console runs on
uvicorn with the lab Asterisk's AMI (the wall-board asks it for the queues). Figures: the
supervisor's page load, the wall-board's live update (its build time on the server and its
delay to the browser's stream), and a push (a ring) reaching all 50 agents' open screens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from figures import percentile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voicebot.config import load_settings  # noqa: E402
from voicebot.console.auth import hash_password  # noqa: E402
from voicebot.console.desk import Push  # noqa: E402
from voicebot.console.server import ConsoleServer  # noqa: E402
from voicebot.store import CallRecord, Store  # noqa: E402
from voicebot.telephony.ami import AmiClient  # noqa: E402
from voicebot.telephony.pbx import AsteriskPbx  # noqa: E402
from voicebot.telephony.queues import QueueMembers  # noqa: E402

PASSWORD = "bench password 1"


def populate(store: Store, agents: int, calls: int) -> list[int]:
    repo = store.campaigns
    repo.save_campaign("floor", "Full floor", {"id": "floor", "queue": "voicebot-lab-desk"}, "bench")
    repo.set_state("floor", "running", "bench")
    password = hash_password(PASSWORD)
    ids = []
    for n in range(agents):
        user = store.console.add_user(
            f"agent{n}",
            role="agent",
            password_hash=password,
            interface=f"Local/bench-{n}@voicebot-lab-phones/n",
            queues=("voicebot-lab-desk",),
            actor="bench",
        )
        store.console.set_agent_state(user.id, ("ready", "paused", "talking", "wrapup")[n % 4], "")
        ids.append(user.id)
    store.console.add_user("sup", role="supervisor", password_hash=password, actor="bench")
    now = datetime.now(UTC)
    for n in range(calls):
        call_id = str(uuid.uuid4())
        kind = n % 4
        store.create_call_sync(
            CallRecord(
                id=call_id,
                destination=f"+86138000{n:05d}",
                campaign_id="floor",
                state="ringing" if kind == 0 else "answered",
                answered_at=None if kind == 0 else now - timedelta(seconds=30),
                outcome="transferred" if kind >= 2 else None,
                grade="A" if kind >= 2 else None,
                created_at=now - timedelta(seconds=40),
            )
        )
        if kind == 3:
            phone = f"Local/bench-{n % agents}@voicebot-lab-phones/n"
            h = store.console.offered(call_id, interface=phone, queue="q", wait_seconds=1)
            store.console.answered(call_id, interface=h.interface, wait_seconds=1, ring_seconds=1)
    return ids


async def log_in(client: httpx.AsyncClient, username: str) -> str:
    page = await client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    response = await client.post("/login", data={"csrf": token, "username": username, "password": PASSWORD})
    assert response.status_code == 303, response.status_code
    return response.headers["location"]


async def run(agents: int, calls: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(None, data_dir=Path(tmp), console={"port": 0})
        store = Store(f"sqlite:///{tmp}/bench.db")
        store.migrate()
        ids = await asyncio.to_thread(populate, store, agents, calls)
        s = settings.ami
        ami = AmiClient(s.host, s.port, s.username, s.secret.get_secret_value())
        await ami.connect()
        server = ConsoleServer(store, QueueMembers(ami), AsteriskPbx(ami), settings)
        await server.start()
        limits = httpx.Limits(max_connections=agents * 2 + 10)
        try:
            async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as sup:
                await log_in(sup, "sup")
                loads = []
                for _ in range(30):
                    start = time.perf_counter()
                    page = await sup.get("/supervisor")
                    loads.append((time.perf_counter() - start) * 1000)
                    assert page.status_code == 200 and page.text.count('<tr id="agent-') == agents
                builds, lags = [], []
                async with sup.stream("GET", "/supervisor/events") as stream:
                    async for line in stream.aiter_lines():
                        if line.startswith("data: "):
                            data = json.loads(line[6:])
                            lags.append((time.time() - data["at"]) * 1000)
                            builds.append(data["build_ms"])
                            if len(builds) == 8:
                                break
            # 50 agents' screens open at once; a push (a ring) to each
            screens = [httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) for _ in ids]
            for n, client in enumerate(screens):
                await log_in(client, f"agent{n}")
            received: list[float] = []
            ready = asyncio.Event()
            connected = 0

            async def screen(client: httpx.AsyncClient) -> None:
                nonlocal connected
                event = ""
                async with client.stream("GET", "/agent/events") as stream:
                    async for line in stream.aiter_lines():
                        if line.startswith("retry:"):
                            connected += 1
                            if connected == len(screens):
                                ready.set()
                        elif line.startswith("event: "):
                            event = line[7:]
                        elif line.startswith("data: ") and event == "ring":
                            received.append((time.time() - json.loads(line[6:])["at"]) * 1000)
                            return

            tasks = [asyncio.create_task(screen(c)) for c in screens]
            await asyncio.wait_for(ready.wait(), 30)
            await asyncio.sleep(0.2)
            for user_id in ids:
                server.desk.push(user_id, Push("ring", {"call_id": "x", "queue": "q", "at": time.time()}))
            await asyncio.wait_for(asyncio.gather(*tasks), 30)
            for client in screens:
                await client.aclose()
        finally:
            await server.close()
            await ami.close()
            store.close()
    print(
        f"console with {agents} agents and {calls} calls up (SQLite, lab AMI for the queues):\n"
        f"  supervisor page load: p50 {percentile(loads, 50):.0f} ms, p95 {percentile(loads, 95):.0f} ms, "
        f"max {max(loads):.0f} ms (30 loads)\n"
        f"  wall-board live update: built in p50 {percentile(builds, 50):.0f} ms, "
        f"p95 {percentile(builds, 95):.0f} ms; at the browser's stream p50 {percentile(lags, 50):.0f} ms, "
        f"p95 {percentile(lags, 95):.0f} ms after it was built\n"
        f"  a ring pushed to {len(received)} open agent screens: p50 {percentile(received, 50):.1f} ms, "
        f"p95 {percentile(received, 95):.1f} ms, max {max(received):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args.agents, args.calls))


if __name__ == "__main__":
    main()

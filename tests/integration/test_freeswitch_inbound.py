"""Callees calling back the number the robot showed, through the real lab FreeSWITCH: the call
enters voicebot-inbound as from a trunk (a loopback whose other leg plays the caller, showing
+NUMBER), voicebot-inbound hands it to voicebot's call socket (found by the global
VOICEBOT_SOCKET the worker set), which finds the lead by the caller's number and sends the call
to mod_callcenter's queue (the agent's screen pops it) or, outside the agents' hours, to the bot
on the same connection. The Asterisk twins are in test_inbound.py."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.integration.test_freeswitch_console import DESK, agent, console_for
from tests.integration.test_inbound import PASSWORD, a_lead, inbound_settings
from tests.integration.test_scripted_calls import conversation
from voicebot.app import App
from voicebot.calls.live import is_uuid
from voicebot.media import audio
from voicebot.store import CallRecord

pytestmark = [pytest.mark.asterisk, pytest.mark.usefixtures("empty_fs_desk")]
SH = ZoneInfo("Asia/Shanghai")
ROBOT_NUMBER = "861012345678"


async def call_in(freeswitch, app: App, number: str, talk: str) -> CallRecord:
    """The caller at ``number`` phones the robot's number and plays the lab sound ``talk`` once
    answered; the call's record once complete."""
    started = datetime.now(UTC)
    freeswitch.cli(
        f"bgapi originate {{origination_caller_id_number=+{number}}}"
        f"loopback/{ROBOT_NUMBER}/voicebot-inbound talk-{talk} XML voicebot-lab"
    )
    for _ in range(1200):
        for record in await app.store.recent_calls(5):
            if record.direction == "inbound" and record.created_at >= started and record.completed:
                return record
        await asyncio.sleep(0.1)
    raise AssertionError("the inbound call was not completed in 120 s")


async def speak(freeswitch, name: str, parts: list[float | str]) -> str:
    await conversation(SimpleNamespace(sounds=freeswitch.sounds), name, parts)
    return name


async def test_a_lead_calling_back_reaches_the_ready_agent_with_a_screen_pop(freeswitch, fs_settings_for):
    number = "8613800007331"
    settings = inbound_settings(fs_settings_for, on_duty=True)
    async with App(settings) as app, console_for(app, settings) as server:
        lead = a_lead(app, number, "Li Lei")
        said = {"speaker": "callee", "text": "Send me the fibre plan by text", "start": 4.2, "end": 6.0}
        earlier = CallRecord(
            id=str(uuid.uuid4()),
            destination=f"+{number}",
            lead_id=str(lead.id),
            campaign_id="callers",
            created_at=datetime.now(UTC) - timedelta(days=1),
            transcript=[said],
        )
        await app.store.create_call(earlier)
        alice = agent(app, "alice")
        rings: list[tuple[float, str]] = []

        async def watch() -> None:
            async with server.desk.screen(alice) as updates:
                while True:
                    push = await updates.get()
                    if push.kind == "ring":
                        rings.append((time.monotonic(), push.data["call_id"]))

        watcher = asyncio.create_task(watch())
        try:
            await server.desk.set_state(alice, "ready")
            talk = await speak(freeswitch, "fs-inbound-caller", [20.0])
            record = await call_in(freeswitch, app, number, talk)
            async with httpx.AsyncClient(base_url=server.url) as client:
                page = await client.get("/login")
                token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
                await client.post("/login", data={"csrf": token, "username": "alice", "password": PASSWORD})
                pop = await client.get(f"/calls/{record.id}/pop")
            events = await app.store.events(record.id)
            handoffs = await app.store.run(app.store.console.handoffs, record.id)
            for _ in range(50):  # the lead's audit row comes through the outbox after the end
                audit = await app.store.run(app.store.campaigns.audit, action="inbound")
                if audit:
                    break
                await asyncio.sleep(0.1)
        finally:
            watcher.cancel()
            await server.desk.set_state(alice, "offline")
    # the call's id is the caller's channel's uuid: every queue event named it, the screen popped it
    assert is_uuid(record.id), record.id
    assert (record.direction, record.destination, record.lead_id, record.campaign_id) == (
        "inbound",
        f"+{number}",
        str(lead.id),
        "callers",
    )
    assert (record.disposition, record.outcome) == ("answered", "transferred"), record
    assert record.recording == f"voicebot/{record.id}.wav"
    assert (freeswitch.recordings / record.recording).exists()
    (inbound,) = [e for e in events if e.kind == "inbound"]
    assert inbound.data["to"] == DESK and inbound.data["lead"] == lead.id, inbound.data
    assert inbound.data["why"].startswith("agents on duty"), inbound.data
    assert inbound.data["dialed"] == ROBOT_NUMBER, inbound.data
    assert [(h.user_id, h.queue, h.result) for h in handoffs] == [(alice.id, DESK, "completed")]
    assert [call_id for _, call_id in rings] == [record.id]
    assert pop.status_code == 200 and "Li Lei" in pop.text, pop.text[:500]
    assert "Calling back" in pop.text and "Last call with the robot" in pop.text
    assert said["text"] in pop.text
    assert record.talk_seconds is not None and record.talk_seconds >= 15, record.talk_seconds
    assert "no_agent" not in {e.kind for e in events}
    # the caller's line reached the agent's phone
    heard = freeswitch.recordings / "lab" / f"phone-alice-{record.id}-heard.wav"
    assert heard.exists(), heard
    assert [(a.lead_id, a.call_id, a.reason) for a in audit] == [(lead.id, record.id, "called back")]


async def test_outside_the_agents_hours_the_bot_answers_and_the_callback_lands_on_the_lead(
    freeswitch, fs_settings_for
):
    number = "8613800007332"
    settings = inbound_settings(fs_settings_for, on_duty=False)
    async with App(settings) as app:
        lead = a_lead(app, number, "Han Meimei")
        script = app.script
        assert script is not None
        greeting = await app.prompts.audio(script.prompt("inbound", script.flow.nodes["inbound"].say))
        talk = await speak(
            freeswitch, "fs-inbound-after-hours", [audio.duration(greeting) + 1.0, "Yes please.", 8.0]
        )
        record = await call_in(freeswitch, app, number, talk)
        events = await app.store.events(record.id)
        for _ in range(50):
            after = app.store.campaigns.lead(lead.id)
            if after is not None and after.next_at != lead.next_at:
                break
            await asyncio.sleep(0.1)
    (inbound,) = [e for e in events if e.kind == "inbound"]
    assert (inbound.data["to"], inbound.data["why"]) == ("bot", "outside the agents' hours"), inbound.data
    assert (record.direction, record.lead_id, record.disposition) == ("inbound", str(lead.id), "answered")
    assert (record.outcome, record.callback) == ("callback", "unspecified"), (
        record.node_path,
        record.transcript,
    )
    assert record.node_path == ["inbound", "no_agent_callback"], record.node_path
    bot = [t["text"] for t in record.transcript if t["speaker"] == "bot"]
    assert bot[0].startswith("Thank you for calling Acme Broadband back"), bot
    assert after is not None and after.status == "pending" and after.next_at is not None
    local = after.next_at.astimezone(SH)
    assert after.next_at >= datetime.now(UTC) + timedelta(hours=20), local
    assert local.weekday() < 5 and 9 <= local.hour < 18, local
    assert (freeswitch.recordings / f"voicebot/{record.id}.wav").exists()  # recorded like every call


async def test_a_call_socket_request_for_a_call_voicebot_does_not_know_is_hung_up(
    freeswitch, fs_settings_for
):
    """Only the PBX reaches the call socket; a back route for a call voicebot is not following
    (a forged or stale request) is hung up and leaves no record."""
    settings = inbound_settings(fs_settings_for, on_duty=True)
    async with App(settings) as app:
        forged = str(uuid.uuid4())
        freeswitch.cli(
            f"bgapi originate {{origination_uuid={forged},VOICEBOT_CALL_ID={forged},VOICEBOT_ROUTE=back}}"
            "loopback/silent/voicebot-lab back XML voicebot-transfer"
        )
        for _ in range(100):
            if "false" in freeswitch.cli(f"uuid_exists {forged}"):
                break
            await asyncio.sleep(0.1)
        gone = "false" in freeswitch.cli(f"uuid_exists {forged}")
        records = await app.store.recent_calls(5)
    assert gone and records == []

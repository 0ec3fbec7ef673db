"""Warm hand-off to agents through the real lab Asterisk: the console's desk puts agents on the
queue (AMI QueueAdd/QueuePause), the queue rings the ready agent's phone, and the queue's events
become the hand-off record and the agent's screen-pop.

Lab agents' phones are Local/phone-NAME@voicebot-lab-phones/n: they ring 1 s, answer, record what
they hear and say "agent-loginok". The callee is a lab conversation timed to the English script.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator

import pytest

from tests.integration.test_scripted_calls import conversation, prompt_seconds, settings_with_script
from voicebot.app import App
from voicebot.console.auth import hash_password
from voicebot.console.desk import Push
from voicebot.console.server import ConsoleServer
from voicebot.console.web import as_user
from voicebot.media import audio
from voicebot.media.wavfile import read_call_audio

pytestmark = pytest.mark.asterisk
DESK = "voicebot-lab-desk"


def phone(name: str) -> str:
    return f"Local/phone-{name}@voicebot-lab-phones/n"


def agent(app: App, name: str, interface: str | None = None):
    info = app.store.console.add_user(
        name,
        role="agent",
        name=name.title(),
        password_hash=hash_password("correct horse battery"),
        interface=interface or phone(name),
        queues=(DESK,),
        department="Sales",
        actor="test",
    )
    return as_user(info)


def members(lab) -> dict[str, str]:
    """The desk queue's members as Asterisk lists them: interface -> the rest of its line."""
    out = lab.cli(f"queue show {DESK}")
    return {m.group(1): m.group(2) for m in re.finditer(r"\((Local/\S+?) from [^)]*\)(.*)", out)} | {
        m.group(1): m.group(2) for m in re.finditer(r"^\s+\S.*?\((Local/[^\s)]+)\)(.*)$", out, re.M)
    }


@contextlib.asynccontextmanager
async def console_for(app: App, settings) -> AsyncIterator[ConsoleServer]:
    server = ConsoleServer(app.store, app.ami, settings.console)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def interested_callee(lab, app: App, name: str, after: list[float | str]) -> str:
    opening = await prompt_seconds(app, "opening")
    return await conversation(
        lab,
        name,
        [opening + 1.0, "Yes, I am interested, tell me more.", 2.5, "Yes please, put me through.", *after],
    )


async def test_a_warm_lead_reaches_the_ready_agent_with_the_transcript_on_screen(lab, settings_for):
    settings = settings_with_script(settings_for, queue=DESK)
    settings = settings.model_copy(update={"console": settings.console.model_copy(update={"port": 0})})
    async with App(settings) as app, console_for(app, settings) as server:
        alice = agent(app, "alice")
        await server.desk.set_state(alice, "ready")
        listed = members(lab)
        assert phone("alice") in listed and "paused" not in listed[phone("alice")].lower(), listed
        destination = await interested_callee(
            lab, app, "handoff-interested", [6.0, "Hello, is anyone there? I would like the fibre plan.", 6.0]
        )
        pushes: list[tuple[float, Push]] = []
        transcript_at_ring: list[list[dict]] = []

        async def watch() -> None:
            async with server.desk.screen(alice) as updates:
                while True:
                    push = await updates.get()
                    pushes.append((time.monotonic(), push))
                    if push.kind == "ring":
                        record = await app.store.get_call(push.data["call_id"])
                        transcript_at_ring.append(record.transcript or [])

        watcher = asyncio.create_task(watch())
        try:
            outcome = await asyncio.wait_for(app.call(destination), 120)
            for _ in range(50):  # the queue's last event (AgentComplete) may trail the hangup
                if [p.kind for _, p in pushes][-1:] == ["state"] and pushes[-1][1].data["state"] == "wrapup":
                    break
                await asyncio.sleep(0.1)
        finally:
            watcher.cancel()
            listed_after = members(lab)
            state = await app.store.run(app.store.console.agent_state, alice.id)
            await server.desk.set_state(alice, "offline")
        handoffs = await app.store.run(app.store.console.handoffs, outcome.call_id)
        audit = await app.store.run(app.store.campaigns.audit, action="call_view")
    r = outcome.record
    assert r.outcome == "transferred", (r.node_path, r.intents, r.transcript)
    # the queue rang alice's phone, she answered, the callee hung up: one hand-off, all of it kept
    assert [(h.user_id, h.queue, h.result) for h in handoffs] == [(alice.id, DESK, "completed")]
    h = handoffs[0]
    assert h.answered_at is not None and h.ended_at is not None and h.wait_seconds is not None
    assert 0 <= h.wait_seconds < 10 and h.talk_seconds is not None and h.talk_seconds >= 5, h
    kinds = [p.kind for _, p in pushes]
    assert kinds[0] == "ring" and pushes[0][1].data["call_id"] == outcome.call_id, kinds
    assert [p.data["state"] for _, p in pushes if p.kind == "state"] == ["talking", "wrapup"]
    # what the bot heard was in the record when the agent's phone rang: the screen-pop shows it
    said = " ".join(t["text"] for t in transcript_at_ring[0] if t["speaker"] == "callee").lower()
    assert "interested" in said and "put me through" in said, transcript_at_ring
    # after the call the agent is in wrap-up: paused on the queue until the wrap-up is filed
    assert (state.state, state.reason, state.call_id) == ("wrapup", "wrap-up", outcome.call_id)
    assert "paused" in listed_after[phone("alice")].lower()
    assert audit == []  # nobody opened the call in a browser
    # the agent heard the callee: speech in the phone's recording once it answered
    heard = read_call_audio(lab.monitor / "voicebot-lab" / f"phone-alice-{outcome.call_id}-heard.wav")
    assert audio.duration(heard) >= 5
    assert audio.rms(heard) > 0.01, audio.rms(heard)


async def test_a_paused_agent_gets_no_call_and_an_offline_one_leaves_the_queue(lab, settings_for):
    settings = settings_with_script(settings_for, queue=DESK)
    async with App(settings) as app:
        server = ConsoleServer(app.store, app.ami, settings.console.model_copy(update={"port": 0}))
        await server.start()
        try:
            bob, carol = agent(app, "bob"), agent(app, "carol")
            await server.desk.set_state(bob, "paused", "lunch")
            await server.desk.set_state(carol, "ready")
            await server.desk.set_state(carol, "offline")
            listed = members(lab)
            assert "paused" in listed[phone("bob")].lower() and phone("carol") not in listed, listed
            destination = await interested_callee(lab, app, "handoff-nobody", [4.0])
            outcome = await asyncio.wait_for(app.call(destination), 120)
            handoffs = await app.store.run(app.store.console.handoffs, outcome.call_id)
        finally:
            for someone in (bob, carol):
                await server.desk.set_state(someone, "offline")
            await server.close()
    assert outcome.record.outcome == "transferred"
    assert handoffs == []  # the queue rang nobody: the paused agent got nothing
    bobs_phone = lab.monitor / "voicebot-lab" / f"phone-bob-{outcome.call_id}-heard.wav"
    assert not await asyncio.to_thread(bobs_phone.exists)

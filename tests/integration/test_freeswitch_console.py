"""The console's desk on the real lab FreeSWITCH: agents in and out of mod_callcenter's queue
(callcenter_config), the queue rings the ready agent's phone, and its events
(callcenter::info) become the hand-off record and the agent's screen-pop, as on Asterisk
(tests/integration/test_handoff.py).

Lab agents' phones are loopback/phone-NAME/voicebot-lab-phones: they ring 1 s, answer, record
what the agent hears and play a tone. The callee is a lab conversation timed to the English
script.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from types import SimpleNamespace

import numpy as np
import pytest

from tests.integration.test_freeswitch_bot import _left
from tests.integration.test_handoff import DESK, console_for
from tests.integration.test_handoff import agent as handoff_agent
from tests.integration.test_scripted_calls import conversation, prompt_seconds, settings_with_script, story
from voicebot.app import App
from voicebot.console.desk import Push
from voicebot.errors import ConsoleError
from voicebot.media import audio
from voicebot.media.wavfile import read_call_audio
from voicebot.telephony.callcenter import table

pytestmark = [pytest.mark.asterisk, pytest.mark.usefixtures("empty_fs_desk")]


def phone(name: str) -> str:
    return f"loopback/phone-{name}/voicebot-lab-phones"


def agent(app: App, name: str, interface: str | None = None):
    return handoff_agent(app, name, interface or phone(name))


def agents(freeswitch) -> dict[str, dict[str, str]]:
    """The desk queue's agents as mod_callcenter lists them: name -> its row."""
    rows = table(freeswitch.cli(f"callcenter_config queue list agents {DESK}"))
    return {row["name"]: row for row in rows}


@pytest.fixture
def fs_desk_settings(fs_settings_for):
    settings = settings_with_script(fs_settings_for, queue=DESK)
    return settings.model_copy(update={"console": settings.console.model_copy(update={"port": 0})})


async def interested_callee(freeswitch, app: App, name: str, after: list[float | str]) -> str:
    opening = await prompt_seconds(app, "opening")
    await conversation(
        SimpleNamespace(sounds=freeswitch.sounds),
        name,
        [opening + 1.0, "Yes, I am interested, tell me more.", 2.5, "Yes please, put me through.", *after],
    )
    return f"loopback/talk-{name}/voicebot-lab"


async def test_a_warm_lead_reaches_the_ready_agent_with_the_transcript_on_screen(freeswitch, fs_settings_for):
    # an agent_wait shorter than the agent's call: once she answered, the call is hers (voicebot
    # heard the queue's bridge-agent-start) and is not taken back when the wait passes
    settings = settings_with_script(fs_settings_for, queue=DESK, agent_wait=5.0)
    settings = settings.model_copy(update={"console": settings.console.model_copy(update={"port": 0})})
    async with App(settings) as app, console_for(app, settings) as server:
        alice = agent(app, "alice")
        await server.desk.set_state(alice, "ready")
        listed = agents(freeswitch)
        assert (listed[phone("alice")]["status"], listed[phone("alice")]["contact"]) == (
            "Available",
            phone("alice"),
        ), listed
        summary = await server.desk.summary(DESK)
        assert (summary.available, summary.logged_in, summary.waiting) == (1, 1, 0), summary
        destination = await interested_callee(
            freeswitch,
            app,
            "fs-handoff-interested",
            [6.0, "Hello, is anyone there? I would like the fibre plan.", 6.0],
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
            for _ in range(50):  # the queue's last event (bridge-agent-end) may trail the hangup
                if [p.kind for _, p in pushes][-1:] == ["state"] and pushes[-1][1].data["state"] == "wrapup":
                    break
                await asyncio.sleep(0.1)
        finally:
            watcher.cancel()
            listed_after = agents(freeswitch)
            state = await app.store.run(app.store.console.agent_state, alice.id)
            await server.desk.set_state(alice, "offline")
        handoffs = await app.store.run(app.store.console.handoffs, outcome.call_id)
        events = await app.store.events(outcome.call_id)
    r = outcome.record
    assert r.outcome == "transferred", (r.node_path, r.intents, r.transcript)
    assert "no_agent" not in {e.kind for e in events}
    # the queue rang alice's phone, she answered, the callee hung up: one hand-off, all of it kept
    assert [(h.user_id, h.queue, h.result) for h in handoffs] == [(alice.id, DESK, "completed")]
    h = handoffs[0]
    assert h.answered_at is not None and h.ended_at is not None and h.wait_seconds is not None
    assert 0 <= h.wait_seconds < 20 and h.ring_seconds is not None and 0.5 <= h.ring_seconds < 10, h
    assert h.talk_seconds is not None and h.talk_seconds >= 3, h
    kinds = [p.kind for _, p in pushes]
    assert kinds[0] == "ring" and pushes[0][1].data["call_id"] == outcome.call_id, kinds
    assert [p.data["state"] for _, p in pushes if p.kind == "state"] == ["talking", "wrapup"]
    # what the bot heard was in the record when the agent's phone rang: the screen-pop shows it
    # (both callee turns, each by a word Whisper tiny.en hears every time: it once wrote "but me
    # through" for "put me through")
    turns = [t["text"].lower() for t in transcript_at_ring[0] if t["speaker"] == "callee"]
    assert len(turns) >= 2 and "interested" in turns[0] and "through" in turns[-1], transcript_at_ring
    # after the call the agent is in wrap-up: on a break in mod_callcenter until the wrap-up is filed
    assert (state.state, state.reason, state.call_id) == ("wrapup", "wrap-up", outcome.call_id)
    assert listed_after[phone("alice")]["status"] == "On Break", listed_after
    # the agent heard the callee: speech in the phone's recording once it answered
    heard = read_call_audio(freeswitch.recordings / "lab" / f"phone-alice-{outcome.call_id}-heard.wav")
    assert audio.duration(heard) >= 5
    assert audio.rms(heard) > 0.01, audio.rms(heard)
    # between the bot's hand-over and the agent's answer, the callee heard the queue's hold music
    assert r.answered_at is not None
    transfer = next(e for e in events if e.kind == "transfer")
    start = (transfer.at - r.answered_at).total_seconds() + 0.3
    end = (h.answered_at - r.answered_at).total_seconds() - 0.2
    assert end - start > 0.5, (start, end)
    held = _left(freeswitch.recordings / "lab" / f"callee-{outcome.call_id}.wav", start, end)
    assert float(np.sqrt(np.mean(held**2))) > 0.01


async def test_a_paused_agent_gets_no_call_and_an_offline_one_leaves_the_queue(freeswitch, fs_desk_settings):
    settings = fs_desk_settings
    async with App(settings) as app, console_for(app, settings) as server:
        bob = agent(app, "bob")
        await server.desk.set_state(bob, "paused", "lunch")
        assert agents(freeswitch)[phone("bob")]["status"] == "On Break"
        summary = await server.desk.summary(DESK)
        assert (summary.available, summary.logged_in) == (0, 1), summary
        destination = await interested_callee(freeswitch, app, "fs-handoff-nobody", [12.0])
        outcome = await asyncio.wait_for(app.call(destination), 120)
        handoffs = await app.store.run(app.store.console.handoffs, outcome.call_id)
        await server.desk.set_state(bob, "offline")
        after = agents(freeswitch)
        with pytest.raises(ConsoleError, match="no queue"):
            await server.desk.summary("no-such-queue")
    assert outcome.record.outcome == "transferred", outcome.record.node_path
    assert handoffs == []  # the queue rang nobody: the paused agent got nothing
    assert phone("bob") not in after, after  # offline: out of the queue's tier


async def test_a_transfer_no_agent_takes_in_time_comes_back_to_the_bot_with_a_callback(
    freeswitch, fs_settings_for
):
    """mod_callcenter's wait is the queue's (120 s in the lab): voicebot keeps the campaign's
    agent_wait (8 s) and brings the callee back to the bot when no agent answered by then. Dave
    is ready, but his phone rings on and never answers."""
    settings = settings_with_script(fs_settings_for, queue=DESK, agent_wait=8.0)
    settings = settings.model_copy(update={"console": settings.console.model_copy(update={"port": 0})})
    async with App(settings) as app, console_for(app, settings) as server:
        dave = agent(app, "dave", "loopback/slow-dave/voicebot-lab-phones")
        try:
            await server.desk.set_state(dave, "ready")
            # the callee stays silent after the transfer: the bot's offer of a callback goes unanswered
            destination = await interested_callee(freeswitch, app, "fs-handoff-nobody-in-time", [45.0])
            outcome = await asyncio.wait_for(app.call(destination), 150)
            events = await app.store.events(outcome.call_id)
            handoffs = await app.store.run(app.store.console.handoffs, outcome.call_id)
            await asyncio.sleep(0.5)  # the queue's last events
            state = await app.store.run(app.store.console.agent_state, dave.id)
        finally:
            await server.desk.set_state(dave, "offline")
    r = outcome.record
    kinds = [e.kind for e in events]
    if not ("transfer" in kinds and "no_agent" in kinds):
        pytest.fail(story(r, events))
    transfer, back = (next(e for e in events if e.kind == kind) for kind in ("transfer", "no_agent"))
    assert 7.5 <= (back.at - transfer.at).total_seconds() <= 11, (transfer.at, back.at)
    # dave's phone rang; he never answered; the callee left the queue unanswered
    assert handoffs and all(h.user_id == dave.id and h.answered_at is None for h in handoffs), handoffs
    # his ring was cut by the callee's leaving, not let ring out: he is not paused for it
    assert (state.state, state.reason) == ("ready", ""), state
    # the bot took the callee back: apologized, promised a callback; both sessions in the record
    assert (r.outcome, r.callback) == ("callback", "unspecified"), (r.outcome, r.node_path)
    assert r.node_path[:3] == ["opening", "offer", "transfer"] and r.node_path[3] == "no_agent", r.node_path
    bot_lines = [t["text"] for t in r.transcript if t["speaker"] == "bot"]
    assert any("advisers are busy" in line for line in bot_lines), bot_lines
    assert bot_lines[-1].startswith("Thank you. An adviser will call you back")


async def test_a_call_socket_request_for_a_call_voicebot_does_not_know_is_hung_up(
    freeswitch, fs_settings_for
):
    """Only the PBX reaches the call socket; a back route for a call voicebot is not following
    (a forged or stale request) is hung up and leaves no record."""
    async with App(fs_settings_for()) as app:
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

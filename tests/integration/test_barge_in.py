"""Barge-in through the real Asterisk, measured in the callee's own recordings.

The lab callee `play-interested` starts talking as soon as it answers. With
barge-in on, the bot's prompt must stop within 200 ms of the speech being
confirmed (``min_speech`` after it starts); with barge-in off (a disclosure),
the prompt plays in full.
"""

from __future__ import annotations

import asyncio

import pytest

from voicebot.app import App
from voicebot.media import audio
from voicebot.media.wavfile import read_call_audio, write_call_audio

pytestmark = pytest.mark.asterisk
LOUD = 0.02
#: The lab callee's send recording is digital silence between phrases: anything above
#: -50 dBFS is its speech, so onsets are measured at their true start.
SPEECH = 0.003
MIN_SPEECH = 0.2


def loud_frames(path, threshold: float = LOUD) -> list[bool]:
    return [audio.rms(f) >= threshold for f in audio.split_frames(read_call_audio(path))]


def first_loud(frames: list[bool]) -> float:
    return frames.index(True) * 0.02


def end_of_first_loud_stretch(frames: list[bool], start: int, gap: int = 10) -> float:
    """Seconds at which the loud stretch starting at ``start`` stops (``gap`` quiet frames in a row)."""
    quiet = 0
    for i in range(start, len(frames)):
        quiet = 0 if frames[i] else quiet + 1
        if quiet >= gap:
            return (i - gap + 1) * 0.02
    return len(frames) * 0.02


async def call_with_greeting(settings_for, tmp_path, barge_in: bool):
    greeting = tmp_path / "greeting.wav"
    write_call_audio(greeting, audio.tone(440, 8.0, level=0.3))
    settings = settings_for(
        call={"greeting": greeting, "greeting_barge_in": barge_in, "listen_seconds": 2.0},
        speech={"min_speech": MIN_SPEECH, "trailing_silence": 0.7},
    )
    async with App(settings) as app:
        outcome = await asyncio.wait_for(app.call("Local/play-interested@voicebot-lab/n"), 60)
        events = await app.store.events(outcome.call_id)
    return outcome, events


async def test_callee_talking_over_the_prompt_stops_it_within_200_ms(lab, settings_for, tmp_path):
    outcome, events = await call_with_greeting(settings_for, tmp_path, barge_in=True)
    base = lab.monitor / "voicebot-lab" / f"callee-{outcome.call_id}"
    said, heard = loud_frames(f"{base}-said.wav", SPEECH), loud_frames(f"{base}-heard.wav")
    speech_onset = first_loud(said)
    tone_start = heard.index(True)
    tone_stop = end_of_first_loud_stretch(heard, tone_start)
    reaction = tone_stop - (speech_onset + MIN_SPEECH)
    assert tone_stop < 3.0, f"the prompt ran {tone_stop:.2f} s: no barge-in"
    assert reaction < 0.2, f"prompt stopped {reaction * 1000:.0f} ms after the speech was confirmed"
    prompt = next(e for e in events if e.kind == "prompt")
    assert prompt.data["result"] == "interrupted" and prompt.data["barge_in"] is True
    heard_turn = next(e for e in events if e.kind == "heard")
    assert heard_turn.data["barged_in"] is True and heard_turn.data["reason"] == "silence"
    # the turn spans the callee's 5.5 s of speech, from the barge-in on
    assert heard_turn.data["speech_end"] - heard_turn.data["speech_start"] > 4.5
    assert outcome.record.bot_audio_seconds < 2.0


async def test_prompt_without_barge_in_plays_in_full(lab, settings_for, tmp_path):
    outcome, events = await call_with_greeting(settings_for, tmp_path, barge_in=False)
    base = lab.monitor / "voicebot-lab" / f"callee-{outcome.call_id}"
    heard = loud_frames(f"{base}-heard.wav")
    tone_start = heard.index(True)
    assert end_of_first_loud_stretch(heard, tone_start) - tone_start * 0.02 == pytest.approx(8.0, abs=0.1)
    prompt = next(e for e in events if e.kind == "prompt")
    assert prompt.data["result"] == "completed"
    assert outcome.record.bot_audio_seconds == pytest.approx(8.0, abs=0.1)


async def offer_with(lab, settings_for, name: str, over_the_offer: str):
    """The English sample script: the callee is interested, says ``over_the_offer`` 3.5 s after
    that (about 2.5 s into the offer: the bot answers within a second, and 3.5 s leaves room for
    a slow machine), then (when the offer is over) asks to be put through."""
    from tests.integration.test_scripted_calls import conversation, prompt_seconds, settings_with_script

    async with App(settings_with_script(settings_for)) as app:
        opening, offer = await prompt_seconds(app, "opening"), await prompt_seconds(app, "offer")
        destination = await conversation(
            lab,
            name,
            [
                opening + 1.0,
                "Yes, I am interested.",
                3.5,
                over_the_offer,
                offer,
                "Yes please, put me through.",
                8.0,
            ],
        )
        outcome = await asyncio.wait_for(app.call(destination), 90)
        events = await app.store.events(outcome.call_id)
    prompts = {e.data["name"]: e.data for e in events if e.kind == "prompt"}
    return outcome, events, prompts


async def test_a_callee_who_says_yeah_over_the_offer_hears_it_to_the_end(lab, settings_for):
    outcome, events, prompts = await offer_with(lab, settings_for, "backchannel-yeah", "Yeah.")
    said = [(e.kind, e.data) for e in events if e.kind in ("heard", "backchannel", "prompt")]
    assert prompts["offer"]["result"] == "completed", said
    backchannels = [e.data for e in events if e.kind == "backchannel"]
    assert len(backchannels) == 1, said
    (backchannel,) = backchannels
    assert prompts["offer"]["start"] < backchannel["start"] < prompts["offer"]["end"], backchannel
    assert outcome.record.outcome == "transferred", said


async def test_a_callee_who_says_wait_no_over_the_offer_stops_it(lab, settings_for):
    _, events, prompts = await offer_with(lab, settings_for, "backchannel-wait", "Wait, no.")
    heard = [e.data for e in events if e.kind == "heard"]
    offer = prompts["offer"]
    assert offer["result"] == "interrupted" and not [e for e in events if e.kind == "backchannel"], heard
    # stopped once the words were heard: within 2.5 s of the speech starting
    assert offer["barge_in_detected"] - offer["barge_in_speech_start"] < 2.5, offer
    assert "wait" in heard[1]["text"].lower() and heard[1]["barged_in"], heard

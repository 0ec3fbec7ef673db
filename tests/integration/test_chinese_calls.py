"""The Chinese sample script on a real call: Asterisk, the multilingual Whisper base hearing
Mandarin (espeak-ng's cmn-latn-pinyin voice, slowed so a phone line's 8 kHz keeps it
understandable), espeak-ng's Mandarin prompts."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.test_scripted_calls import ROOT, conversation, prompt_seconds, story
from voicebot.app import App
from voicebot.media import audio
from voicebot.speech import models

pytestmark = pytest.mark.asterisk
MANDARIN, SLOW = "cmn-latn-pinyin", 110


@pytest.fixture(scope="module")
def whisper_base(tmp_path_factory):
    """The model joined from its two installed PyPI parts (``voicebot models fetch whisper-base``)."""
    return models.assemble("whisper-base", tmp_path_factory.mktemp("models"))


async def test_a_chinese_callee_asks_if_it_is_a_robot_then_for_a_callback(lab, settings_for, whisper_base):
    settings = settings_for(
        call={"script": ROOT / "intents/broadband-zh", "listen_seconds": 4.0},
        speech={"engine": "whisper", "model": str(whisper_base), "language": "zh"},
    )
    async with App(settings) as app:
        script = app.script
        assert script is not None
        opening = await prompt_seconds(app, "opening")
        answer = audio.duration(
            await app.prompts.audio(script.prompt("is_robot", script.flow.globals["is_robot"].say))
        )
        destination = await conversation(
            lab,
            "zh-robot-callback",
            # after the answer: the bot's decision and Whisper base's decoding (~2 s) come first
            [opening + 1.0, "你是机器人吗", answer + 4.0, "我现在很忙，明天再打吧", 8.0],
            MANDARIN,
            SLOW,
        )
        outcome = await asyncio.wait_for(app.call(destination), 120)
        journal = await app.store.events(outcome.call_id)
    r = outcome.record
    if not (r.outcome == "callback" and r.intents == ["is_robot", "busy_call_later"]):
        pytest.fail(story(r, journal))
    bot = [t for t in r.transcript if t["speaker"] == "bot"]
    assert [t.get("node") for t in bot] == ["opening", "is_robot", "busy_call_later"]
    assert r.callback is not None  # the dialer places it in the calling window

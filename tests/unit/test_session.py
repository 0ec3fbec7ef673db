"""CallSession over the in-package fake stream: the behaviour seam, endings, and task ownership.

The same paths run through the real Asterisk in tests/integration/test_calls.py.
"""

import asyncio

from voicebot.calls.behaviour import GreetAndListen
from voicebot.calls.context import CallContext, ScriptResult
from voicebot.calls.ears import Ears
from voicebot.calls.session import CallSession
from voicebot.media import audio
from voicebot.media.fake import FakeMediaStream
from voicebot.media.stream import PlayResult
from voicebot.speech.turns import TurnConfig
from voicebot.speech.vad import VoiceActivity


def ears_for(stream, no_input=0.5):
    return Ears(VoiceActivity(3), None, TurnConfig(no_input=no_input), stream.now)


class Journal:
    def __init__(self):
        self.entries = []
        self.written = asyncio.Condition()

    async def __call__(self, kind, **data):
        self.entries.append((kind, data))
        async with self.written:
            self.written.notify_all()

    async def wait_for(self, kind):
        async with self.written:
            await self.written.wait_for(lambda: kind in self.kinds())

    def kinds(self):
        return [k for k, _ in self.entries]


async def test_greet_hear_hang_up():
    stream = FakeMediaStream(speed=20)
    journal = Journal()
    greeting = audio.tone(440, 2.0)
    session = CallSession(stream.call_id, stream, GreetAndListen(greeting), journal, ears_for(stream))
    stream.say(audio.tone(300, 0.5), after=0.5)  # the callee talks over the greeting (no barge-in)
    result = await session.run()
    assert stream.played == [(greeting, PlayResult.COMPLETED)]
    assert stream.hung_up
    assert result.end_reason == "bot-hangup"
    assert result.callee_audio_seconds == 0.5
    assert result.callee_audio_rms > 0.1
    assert journal.kinds() == ["media_started", "prompt", "heard", "media_ended"]
    assert journal.entries[2][1]["reason"] == "no-input"
    assert [t.speaker for t in session.context.turns] == ["bot", "callee"]


async def test_callee_hangup_mid_prompt_cancels_behaviour_and_leaves_no_task():
    before = len(asyncio.all_tasks())
    stream = FakeMediaStream(speed=1)  # a 10 s prompt really takes 10 s
    journal = Journal()
    session = CallSession(
        stream.call_id, stream, GreetAndListen(audio.tone(440, 10.0)), journal, ears_for(stream)
    )
    task = asyncio.create_task(session.run())
    await asyncio.sleep(0.1)
    stream.callee_hangs_up()
    result = await asyncio.wait_for(task, 1.0)
    assert result.end_reason == "callee-hangup"
    assert stream.played[0][1] is PlayResult.HUNGUP
    assert "callee_hangup" in journal.kinds() and journal.kinds()[-1] == "media_ended"
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == before


class Broken:
    async def run(self, call: CallContext) -> None:
        await call.play(audio.tone(440, 0.1))
        raise RuntimeError("script bug")


async def test_failing_behaviour_ends_only_its_call():
    stream = FakeMediaStream()
    journal = Journal()
    result = await CallSession(stream.call_id, stream, Broken(), journal, ears_for(stream)).run()
    assert result.end_reason == "error"
    assert result.error == "RuntimeError: script bug"
    assert stream.hung_up
    assert journal.entries[-1] == ("media_ended", {"reason": "error", "error": "RuntimeError: script bug"})


class Forever:
    async def run(self, call: CallContext) -> None:
        await asyncio.sleep(3600)


async def test_max_duration_ends_the_call():
    stream = FakeMediaStream()
    result = await CallSession(
        stream.call_id, stream, Forever(), Journal(), ears_for(stream), max_seconds=0.1
    ).run()
    assert result.end_reason == "max-duration"
    assert stream.hung_up


async def test_dtmf_is_journaled():
    stream = FakeMediaStream(speed=100)
    journal = Journal()
    stream.press("7")
    await CallSession(
        stream.call_id, stream, GreetAndListen(audio.tone(440, 0.1)), journal, ears_for(stream)
    ).run()
    assert any(k == "dtmf" and d["digit"] == "7" for k, d in journal.entries)


class LastWords:
    """Says a last prompt and ends; ``outcome`` as a script would record it."""

    def __init__(self, outcome=None):
        self.outcome = outcome

    async def run(self, call: CallContext) -> None:
        if self.outcome is not None:
            call.script = ScriptResult(outcome=self.outcome)
        await call.play(audio.tone(440, 0.2), name="goodbye", barge_in=False)


async def test_after_its_last_words_the_bot_lets_the_callee_hang_up_first():
    stream = FakeMediaStream(speed=1)
    journal = Journal()
    session = CallSession(stream.call_id, stream, LastWords(), journal, ears_for(stream), hangup_grace=2.0)
    task = asyncio.create_task(session.run())
    await journal.wait_for("hangup_grace")
    started = asyncio.get_running_loop().time()
    stream.callee_hangs_up()
    result = await asyncio.wait_for(task, 1.0)
    assert asyncio.get_running_loop().time() - started < 0.5  # the callee's hangup ended the wait
    assert result.end_reason == "callee-hangup"


async def test_a_callee_who_stays_on_is_hung_up_on_after_the_grace_and_a_transfer_waits_for_nothing():
    loop = asyncio.get_running_loop()
    for outcome, grace, waited in ((None, 0.4, 0.4), ("transferred", 5.0, 0.0)):
        stream = FakeMediaStream(speed=1)
        journal = Journal()
        session = CallSession(
            stream.call_id, stream, LastWords(outcome), journal, ears_for(stream), hangup_grace=grace
        )
        started = loop.time()
        result = await session.run()
        took = loop.time() - started - 0.2  # the 0.2 s prompt
        assert result.end_reason == "bot-hangup" and stream.hung_up
        assert waited <= took < waited + 0.3, (outcome, took)
        assert ("hangup_grace" in journal.kinds()) == (outcome is None)

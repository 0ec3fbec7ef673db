"""Turns, barge-in and speech-only decoding over the fake stream, with the real WebRTC VAD.

A fake recognizer records exactly what audio it was fed; the real vosk is in
tests/integration/test_speech.py.
"""

import asyncio
import subprocess
import sys

import pytest

from voicebot.calls.context import CallContext
from voicebot.calls.ears import Ears
from voicebot.media import audio
from voicebot.media.fake import FakeMediaStream
from voicebot.media.stream import PlayResult
from voicebot.speech.asr import Transcript
from voicebot.speech.backchannel import Backchannels
from voicebot.speech.turns import EndReason, TurnConfig
from voicebot.speech.vad import VoiceActivity

from ..support import media_reader, no_journal

CONFIG = TurnConfig(trailing_silence=0.6, max_utterance=10, no_input=2.0, min_speech=0.2, pre_roll=0.3)


class RecordingRecognizer:
    """Records what it was fed, and keeps the speculation contract: a speculation is the audio
    fed so far; a push after it drops it; ``finish`` uses it when nothing came since."""

    def __init__(self):
        self.fed = bytearray()
        self.turns: list[bytes] = []
        self.phrases = None
        self.speculations: list[int] = []  # bytes fed when each speculation started
        self.dropped = 0
        self.used = 0
        self._speculation: bytes | None = None

    async def push(self, pcm):
        if self._speculation is not None:
            self._speculation = None
            self.dropped += 1
        self.fed += pcm
        await asyncio.sleep(0.001)  # a decoder takes time
        return None

    def speculate(self, within):
        self.speculations.append(len(self.fed))
        self._speculation = bytes(self.fed)

    async def finish(self):
        if self._speculation is not None:
            assert self._speculation == bytes(self.fed)
            self.used += 1
            self._speculation = None
        self.turns.append(bytes(self.fed))
        self.fed.clear()
        return Transcript(f"{len(self.turns[-1]) // 320} frames", final=True, confidence=0.9)

    def set_phrases(self, phrases):
        self.phrases = phrases

    async def aclose(self):
        pass


RENDER = """
import asyncio, sys
from voicebot.speech.tts import Synthesizer

async def render():
    synth = Synthesizer()
    try:
        sys.stdout.buffer.write(await synth.render("Yes, I am interested in that offer.", "en-us", 170))
    finally:
        synth.close()

asyncio.run(render())
"""


@pytest.fixture(scope="module")
def speech():
    """1.2 s of real synthetic speech (espeak-ng), as call audio, rendered by a process of its
    own: espeak-ng is one library per process whose output depends on what it rendered before
    (its noise and rate state), and these tests' pauses are timed to this very clip. Before,
    they failed when the suite happened to have rendered other text first."""
    done = subprocess.run([sys.executable, "-c", RENDER], capture_output=True, check=True, timeout=60)
    return done.stdout


def setup(speed=10.0, rec=None):
    stream = FakeMediaStream(speed=speed)
    ears = Ears(VoiceActivity(3), rec, CONFIG, stream.now)
    ctx = CallContext(stream.call_id, stream, no_journal, ears)
    reader = asyncio.create_task(media_reader(stream, ears, ctx))
    return stream, ctx, reader


async def test_turn_ends_after_trailing_silence_and_only_speech_is_decoded(speech):
    rec = RecordingRecognizer()
    stream, ctx, reader = setup(rec=rec)
    stream.say(
        bytes(8000 * 2 * 1) + speech + bytes(8000 * 2 * 2), after=0.0
    )  # 1 s silence, speech, 2 s silence
    heard = await ctx.hear(phrases=["yes", "no"])
    assert heard.reason is EndReason.SILENCE
    assert heard.speech_start == pytest.approx(1.0, abs=0.25)
    assert heard.decided - heard.speech_end == pytest.approx(0.6, abs=0.1)
    assert rec.phrases == ["yes", "no"]
    fed_seconds = len(rec.turns[0]) / 16000
    speech_seconds = audio.duration(speech)
    # pre-roll + speech + trailing silence, not the leading second of silence
    assert speech_seconds * 0.6 < fed_seconds < speech_seconds + 0.3 + 0.7
    assert heard.text == f"{len(rec.turns[0]) // 320} frames"
    assert ctx.turns[-1].speaker == "callee"
    await stream.aclose()
    await reader


async def test_no_input_when_the_callee_sends_nothing():
    stream, ctx, reader = setup()
    heard = await ctx.hear()
    assert heard.reason is EndReason.NO_INPUT
    assert heard.decided - heard.opened == pytest.approx(2.0, abs=0.15)
    assert heard.text == ""
    await stream.aclose()
    await reader


async def test_barge_in_stops_the_prompt_and_keeps_the_speech(speech):
    rec = RecordingRecognizer()
    stream, ctx, reader = setup(rec=rec)
    stream.say(speech, after=1.0)
    result = await ctx.play(audio.tone(440, 5.0), name="offer", barge_in=True)
    assert result is PlayResult.INTERRUPTED
    barge = ctx.barge_ins[0]
    assert barge.speech_start == pytest.approx(1.0, abs=0.25)
    assert barge.detected - barge.speech_start == pytest.approx(CONFIG.min_speech, abs=0.1)
    assert stream.play_ended[0] - barge.detected < 0.2  # fake stream time; the real bound is in integration
    heard = await ctx.hear()
    assert heard.barged_in and heard.reason is EndReason.SILENCE
    assert heard.speech_start == pytest.approx(barge.speech_start, abs=0.05)
    assert len(rec.turns[0]) / 16000 > audio.duration(speech) * 0.6  # the speech before detection was kept
    await stream.aclose()
    await reader


async def test_prompt_without_barge_in_plays_in_full(speech):
    stream, ctx, reader = setup()
    stream.say(speech, after=0.5)
    result = await ctx.play(audio.tone(440, 3.0), name="disclosure", barge_in=False)
    assert result is PlayResult.COMPLETED and not ctx.barge_ins
    await stream.aclose()
    await reader


async def test_hangup_ends_a_turn():
    stream, ctx, reader = setup()
    task = asyncio.create_task(ctx.hear())
    await asyncio.sleep(0.02)
    stream.callee_hangs_up()
    heard = await asyncio.wait_for(task, 1)
    assert heard.reason is EndReason.HANGUP
    await reader


async def test_a_pause_starts_recognition_and_its_result_ends_the_turn(speech):
    rec = RecordingRecognizer()
    stream, ctx, reader = setup(speed=2.0, rec=rec)  # pauses are timing: no 10x here
    stream.say(speech + bytes(8000 * 2 * 2), after=0.3)
    heard = await ctx.hear()
    assert heard.reason is EndReason.SILENCE
    # one speculation, at the pause, used as the turn's transcript: nothing pushed after it
    assert len(rec.speculations) == 1 and rec.used == 1 and rec.dropped == 0
    fed = rec.turns[0]
    assert rec.speculations[0] == len(fed)
    # the recognizer got the speech and ``speculate_after`` of the silence, not the whole trailing silence
    assert len(fed) / 16000 < 0.3 + audio.duration(speech) + CONFIG.speculate_after + 0.1
    await stream.aclose()
    await reader


async def test_a_pause_inside_the_turn_drops_the_speculation_and_keeps_every_frame(speech):
    rec = RecordingRecognizer()
    stream, ctx, reader = setup(speed=2.0, rec=rec)  # pauses are timing: no 10x here
    # with the clip's own 0.22 s of trailing silence: a pause of ~0.44 s, longer than speculate_after
    # (0.2 s), shorter than the trailing silence (0.6 s)
    pause = bytes(int(8000 * 0.2) * 2)
    stream.say(speech + pause + speech + bytes(8000 * 2 * 2), after=0.3)
    heard = await ctx.hear()
    assert heard.reason is EndReason.SILENCE
    assert heard.speech_end > 0.3 + audio.duration(speech) + 0.2  # one turn: both parts
    assert len(rec.speculations) == 2 and rec.dropped == 1 and rec.used == 1
    fed = rec.turns[0]
    # the pause went to the recognizer whole (held frames pushed when the callee went on)
    assert len(fed) / 16000 > audio.duration(speech) + 0.2 + 1.5
    assert len(fed) // 320 == int(heard.text.split()[0])
    await stream.aclose()
    await reader


class SayingRecognizer(RecordingRecognizer):
    """Hears the given words in every turn (what a real recognizer made of the speech)."""

    def __init__(self, words):
        super().__init__()
        self.words = words

    async def finish(self):
        await super().finish()
        return Transcript(self.words, final=True, confidence=0.9)


LONG_ENOUGH = Backchannels.for_language("en", max_seconds=3.0)  # the 1.2 s clip counts as short


async def talk_over(rec, said, prompt_seconds, backchannels=LONG_ENOUGH):
    """The callee says ``said`` 0.5 s into a prompt that hears backchannels; the play's result."""
    stream, ctx, reader = setup(speed=2.0, rec=rec)
    stream.say(said, after=0.5)
    result = await ctx.play(audio.tone(440, prompt_seconds), name="offer", backchannels=backchannels)
    return stream, ctx, reader, result


async def test_an_acknowledgement_over_a_prompt_lets_it_play_to_the_end(speech):
    journal = []

    async def keep(kind, **data):
        journal.append((kind, data))

    stream, ctx, reader = setup(speed=2.0, rec=SayingRecognizer("Uh-huh."))
    ctx._journal = keep
    stream.say(speech, after=0.5)
    result = await ctx.play(audio.tone(440, 4.0), name="offer", backchannels=LONG_ENOUGH)
    assert result is PlayResult.COMPLETED and not ctx.barge_ins
    (let_go,) = ctx.ears.backchannels
    assert let_go.text == "Uh-huh." and let_go.start == pytest.approx(0.5, abs=0.25)
    assert [k for k, _ in journal] == ["prompt", "backchannel"]
    # the acknowledgement was not kept as the callee's turn: the next turn is new speech
    stream.say(speech, after=0.3)
    heard = await ctx.hear()
    assert not heard.barged_in and heard.speech_start > 4.0
    await stream.aclose()
    await reader


async def test_a_stop_word_stops_the_prompt_once_heard_and_is_the_callees_turn(speech):
    stream, ctx, reader, result = await talk_over(SayingRecognizer("Wait, no."), speech, 6.0)
    assert result is PlayResult.INTERRUPTED and not ctx.ears.backchannels
    barge = ctx.barge_ins[0]
    assert barge.speech_start == pytest.approx(0.5, abs=0.25)
    # stopped when the words were in: after the speech and its trailing silence, not at its start
    assert barge.detected - barge.speech_start > audio.duration(speech) * 0.6
    heard = await ctx.hear()
    assert heard.barged_in and heard.text == "Wait, no."
    await stream.aclose()
    await reader


async def test_speech_longer_than_an_acknowledgement_stops_the_prompt_without_waiting(speech):
    quick = Backchannels.for_language("en", max_seconds=0.6)
    stream, ctx, reader, result = await talk_over(SayingRecognizer("uh-huh"), speech + speech, 6.0, quick)
    assert result is PlayResult.INTERRUPTED
    barge = ctx.barge_ins[0]
    assert barge.detected - barge.speech_start == pytest.approx(0.6, abs=0.15)
    heard = await ctx.hear()  # the whole speech is the callee's turn, whatever its words
    assert heard.barged_in and heard.speech_end - heard.speech_start > audio.duration(speech)
    await stream.aclose()
    await reader


async def test_noise_the_recognizer_made_no_words_of_does_not_stop_the_prompt(speech):
    stream, ctx, reader, result = await talk_over(SayingRecognizer(""), speech, 4.0)
    assert result is PlayResult.COMPLETED and not ctx.barge_ins
    await stream.aclose()
    await reader


class StreamingRecognizer(SayingRecognizer):
    """Gives ``partial`` words from its first chunk on, as vosk does while the callee speaks."""

    def __init__(self, partial, words):
        super().__init__(words)
        self.partial = partial

    async def push(self, pcm):
        await super().push(pcm)
        return Transcript(self.partial, final=False, confidence=0.0)


async def test_a_streaming_recognizers_words_stop_the_prompt_while_the_callee_still_speaks(speech):
    stream, ctx, reader, result = await talk_over(StreamingRecognizer("wait", "wait no"), speech, 6.0)
    assert result is PlayResult.INTERRUPTED
    barge = ctx.barge_ins[0]
    # decided by the first partial, before the speech (1.2 s) was over
    assert barge.detected - barge.speech_start < audio.duration(speech) * 0.6
    await stream.aclose()
    await reader


async def test_partial_acknowledgements_wait_for_the_turns_words(speech):
    stream, ctx, reader, result = await talk_over(StreamingRecognizer("yeah", "yeah yeah"), speech, 4.0)
    assert result is PlayResult.COMPLETED and [b.text for b in ctx.ears.backchannels] == ["yeah yeah"]
    await stream.aclose()
    await reader

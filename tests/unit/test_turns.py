"""End of turn as a table: frames of speech (S) and silence (.) in, decisions out."""

import pytest

from voicebot.speech.turns import EndReason, Paused, SpeechStarted, TurnConfig, TurnDetector, TurnEnded

CONFIG = TurnConfig(trailing_silence=0.1, max_utterance=0.5, no_input=0.2, min_speech=0.06)


def run(pattern: str, config: TurnConfig = CONFIG):
    """Feed one 20 ms frame per character; return (events with their frame index)."""
    detector = TurnDetector(config, start=0.0)
    out = []
    for i, ch in enumerate(pattern):
        for event in detector.feed(ch == "S", at=round((i + 1) * 0.02, 6)):
            out.append((i, event))
    return out


def test_speech_then_trailing_silence_ends_the_turn():
    events = run("..SSSSS.....")
    (i0, started), (i1, ended) = events
    assert isinstance(started, SpeechStarted) and i0 == 4  # after min_speech (3 frames)
    assert started.at == pytest.approx(0.04)  # the first speech frame began at 40 ms
    assert isinstance(ended, TurnEnded) and ended.reason is EndReason.SILENCE
    assert i1 == 11  # 5 silent frames = 100 ms
    assert ended.speech_start == pytest.approx(0.04) and ended.speech_end == pytest.approx(0.14)


def test_a_cough_is_not_speech():
    events = run("..SS..SS....")  # two 40 ms blips, each shorter than min_speech
    assert [type(e) for _, e in events] == [TurnEnded]
    assert events[0][1].reason is EndReason.NO_INPUT


def test_no_input():
    ((i, ended),) = run("..........")
    assert ended.reason is EndReason.NO_INPUT and i == 9 and ended.speech_start is None


def test_short_pauses_inside_speech_do_not_end_the_turn():
    events = run("SSSS....SSSS.....")
    assert [type(e) for _, e in events] == [SpeechStarted, TurnEnded]
    assert events[1][1].speech_end == pytest.approx(0.24)


def test_max_utterance():
    events = run("S" * 40)
    ended = events[-1][1]
    assert ended.reason is EndReason.MAX_LENGTH
    assert ended.at - ended.speech_start == pytest.approx(0.5)


def test_nothing_after_the_end_and_hangup_keeps_the_first_end():
    detector = TurnDetector(CONFIG, start=0.0)
    for i in range(12):
        detector.feed(False, (i + 1) * 0.02)
    assert detector.feed(True, 0.3) == []
    assert detector.hangup(0.4).reason is EndReason.NO_INPUT


def test_hangup_mid_speech():
    detector = TurnDetector(CONFIG, start=0.0)
    for i in range(5):
        detector.feed(True, (i + 1) * 0.02)
    ended = detector.hangup(0.2)
    assert ended.reason is EndReason.HANGUP and ended.speech_start == 0.0


def pausing(speculate_after: float) -> TurnConfig:
    return TurnConfig(
        trailing_silence=0.1, max_utterance=5, no_input=0.2, min_speech=0.06, speculate_after=speculate_after
    )


def test_a_pause_is_announced_once_per_silence_before_the_turn_ends():
    config = pausing(0.04)
    events = run("SSSS...SSS.....", config)
    kinds = [(i, type(e).__name__) for i, e in events]
    # paused after 2 silent frames (40 ms) each time; the second silence ends the turn at 100 ms
    assert kinds == [(2, "SpeechStarted"), (5, "Paused"), (11, "Paused"), (14, "TurnEnded")]
    first = events[1][1]
    assert isinstance(first, Paused)
    assert first.speech_end == pytest.approx(0.08) and first.at == pytest.approx(0.12)


def test_no_pause_when_speculation_would_come_at_or_after_the_end():
    config = pausing(0.1)
    assert [type(e) for _, e in run("SSSS.....", config)] == [SpeechStarted, TurnEnded]

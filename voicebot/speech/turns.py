"""End of turn: a pure state machine over per-frame voice activity.

Fed one decision per 20 ms frame (speech or not, and the frame's end time), it
says when the callee started speaking (after ``min_speech`` of speech, so a
cough or "mm" does not count) and when the turn ended, for whichever reason
comes first:

- ``silence``: ``trailing_silence`` seconds without speech after speech;
- ``max-length``: the utterance ran ``max_utterance`` seconds;
- ``no-input``: nothing was said for ``no_input`` seconds.

Before a silence ends the turn it is a pause: after ``speculate_after`` seconds of
it the detector says so once (``Paused``), so a recognizer can start on the turn so
far while the rest of the trailing silence is waited out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

FRAME = 0.020


class EndReason(enum.StrEnum):
    SILENCE = "silence"
    MAX_LENGTH = "max-length"
    NO_INPUT = "no-input"
    HANGUP = "hangup"


@dataclass(frozen=True, slots=True)
class TurnConfig:
    trailing_silence: float = 0.7
    max_utterance: float = 15.0
    no_input: float = 5.0
    min_speech: float = 0.2
    pre_roll: float = 0.3
    #: Silence after speech at which the turn may be over: recognition starts on it then.
    speculate_after: float = 0.2


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    at: float  # when the first frame of the speech began


@dataclass(frozen=True, slots=True)
class TurnEnded:
    reason: EndReason
    at: float  # when the decision was taken
    speech_start: float | None
    speech_end: float | None  # end of the last speech frame


@dataclass(frozen=True, slots=True)
class Paused:
    at: float  # when the pause reached ``speculate_after``
    speech_end: float  # end of the last speech frame


TurnEvent = SpeechStarted | Paused | TurnEnded


class TurnDetector:
    """Decides speech start and end of turn from a stream of VAD decisions."""

    def __init__(self, config: TurnConfig, start: float) -> None:
        self.config = config
        self.start = start
        self._run_start: float | None = None  # first frame of a candidate speech run
        self._run = 0.0
        self.speech_start: float | None = None
        self.last_speech: float | None = None
        self.ended: TurnEnded | None = None
        self._paused = False

    @property
    def in_speech(self) -> bool:
        return self.speech_start is not None and self.ended is None

    def feed(self, speech: bool, at: float) -> list[TurnEvent]:
        """One frame's decision; ``at`` is the frame's end time."""
        if self.ended is not None:
            return []
        c = self.config
        events: list[TurnEvent] = []
        if self.speech_start is None:
            if speech:
                if self._run_start is None:
                    self._run_start = at - FRAME
                self._run += FRAME
                if self._run + 1e-9 >= c.min_speech:
                    self.speech_start = self._run_start
                    self.last_speech = at
                    events.append(SpeechStarted(self._run_start))
            else:
                self._run_start, self._run = None, 0.0
                if at - self.start + 1e-9 >= c.no_input:
                    self.ended = TurnEnded(EndReason.NO_INPUT, at, None, None)
                    events.append(self.ended)
            return events
        if speech:
            self.last_speech = at
            self._paused = False
        assert self.last_speech is not None
        silent = at - self.last_speech + 1e-9
        if silent >= c.speculate_after and not self._paused and silent < c.trailing_silence:
            self._paused = True
            events.append(Paused(at, self.last_speech))
        if silent >= c.trailing_silence:
            self.ended = TurnEnded(EndReason.SILENCE, at, self.speech_start, self.last_speech)
        elif at - self.speech_start + 1e-9 >= c.max_utterance:
            self.ended = TurnEnded(EndReason.MAX_LENGTH, at, self.speech_start, self.last_speech)
        if self.ended is not None:
            events.append(self.ended)
        return events

    def hangup(self, at: float) -> TurnEnded:
        if self.ended is None:
            self.ended = TurnEnded(EndReason.HANGUP, at, self.speech_start, self.last_speech)
        return self.ended

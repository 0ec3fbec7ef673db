"""The bot's ears on one call: voice activity on every frame, turns, barge-in, recognition.

Every inbound frame goes through the VAD. While a turn is open, the turn
detector decides when the callee started and stopped; only speech (from a
short pre-roll before it) is queued for the recognizer, not the silence
between turns. While an interruptible prompt plays, ``min_speech`` of speech
stops it (barge-in) and opens a turn that already holds the speech so far.

With backchannels (and a recognizer), that speech is heard before it stops the
prompt: the turn it opened is a probe. If it ends within ``max_seconds`` and its
words are only acknowledgement ("uh-huh", 嗯), it is dropped and the prompt goes
on; other words stop the prompt then (or as soon as a streaming recognizer's
partial result has them), and speech that goes on longer stops it at once. The
prompt's callback fires with the speech's start either way.

Frame handling never waits for the decoder: decoding runs in the call's own
decoder task, fed by a queue, so a slow decoder delays the transcript, never
the turn-taking. Chunks that queued while the decoder was busy go to it as one.

When the callee pauses (``TurnConfig.speculate_after``), the recognizer is told
the turn may be over and starts on its transcript; the silent frames after that
are held back. If the silence lasts, the turn ends with that transcript, so the
trailing silence hides the decoding; if the callee goes on, the held frames and
the new speech are pushed and the speculation is dropped.

Inbound frames are no clock (a silent far end may send none), so a listening
turn is also driven by time: ``catch_up`` counts frames that never arrived as
silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from voicebot.speech.asr import RecognizerStream, Transcript
from voicebot.speech.backchannel import Backchannels
from voicebot.speech.turns import (
    FRAME,
    EndReason,
    Paused,
    SpeechStarted,
    TurnConfig,
    TurnDetector,
    TurnEnded,
    TurnEvent,
)
from voicebot.speech.vad import Vad

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Heard:
    """One callee turn: what was said, when, and why the turn ended."""

    text: str
    confidence: float
    reason: EndReason
    opened: float  # stream time the turn opened
    speech_start: float | None
    speech_end: float | None
    decided: float  # stream time the end of turn was decided
    barged_in: bool = False


@dataclass(frozen=True, slots=True)
class BargeIn:
    speech_start: float
    detected: float


@dataclass(frozen=True, slots=True)
class Backchannel:
    """Speech over a prompt that let it go on (its words were only acknowledgement)."""

    text: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class _Frame:
    pcm: bytes
    speech: bool
    at: float


class _Turn:
    def __init__(self, config: TurnConfig, opened: float, barged_in: bool) -> None:
        self.detector = TurnDetector(config, opened)
        self.opened = opened
        self.barged_in = barged_in
        self.pushing = False
        self.held: list[bytes] | None = None  # frames after a pause, while the recognizer speculates
        self.result: asyncio.Future[Heard] = asyncio.get_running_loop().create_future()


@dataclass(slots=True)
class _Probe:
    """Speech over a prompt, heard before it may stop the prompt."""

    fire: Callable[[BargeIn], None]
    turn: _Turn
    start: float
    words: Backchannels


@dataclass(frozen=True, slots=True)
class _Finish:
    turn: _Turn
    ended: TurnEnded


@dataclass(frozen=True, slots=True)
class _Speculate:
    within: float


_Item = bytes | _Finish | _Speculate | tuple[str, ...]


class Ears:
    def __init__(
        self,
        vad: Vad,
        recognizer: RecognizerStream | None,
        config: TurnConfig,
        clock: Callable[[], float],
    ) -> None:
        self._vad = vad
        self._rec = recognizer
        self.config = config
        self._clock = clock
        frames = int((config.pre_roll + config.min_speech) / FRAME) + 2
        self._ring: deque[_Frame] = deque(maxlen=frames)
        self._turn: _Turn | None = None
        self._barge: Callable[[BargeIn], None] | None = None
        self._words: Backchannels | None = None  # while a prompt plays: what lets it go on
        self._probe: _Probe | None = None
        self.backchannels: list[Backchannel] = []
        self._run: list[_Frame] = []  # the current run of speech frames, for barge-in
        self._last_at: float | None = None
        self._queue: deque[_Item] = deque()
        self._queued = asyncio.Event()
        self._decoder: asyncio.Task[None] | None = None
        self.speech_seconds = 0.0  # audio actually sent to the recognizer
        self.partials: list[Transcript] = []

    # -- driven by the session's media reader ---------------------------------------
    def hear(self, pcm: bytes, at: float) -> None:
        speech = self._vad.is_speech(pcm)
        frame = _Frame(pcm, speech, at)
        self._ring.append(frame)
        self._last_at = at
        self._run = [*self._run, frame] if speech else []
        if self._barge is not None and len(self._run) * FRAME + 1e-9 >= self.config.min_speech:
            fire, self._barge = self._barge, None
            start = self._run[0].at - FRAME
            if self._turn is not None:
                fire(BargeIn(start, at))
                return
            turn = self._open(start - FRAME, barged_in=True)
            for earlier in list(self._ring):
                if earlier.at > start - FRAME:
                    self._feed(earlier)
            if self._words is not None:
                self._probe = _Probe(fire, turn, start, self._words)
            else:
                fire(BargeIn(start, at))
            return
        if self._turn is not None:
            self._feed(frame)
        probe = self._probe
        if probe is not None and probe.turn.detector.ended is None:
            spoken = (probe.turn.detector.last_speech or probe.start) - probe.start
            if spoken + 1e-9 >= probe.words.max_seconds:
                self._probe = None  # talking, not acknowledging
                probe.fire(BargeIn(probe.start, at))

    def hangup(self, at: float) -> None:
        if self._turn is not None and not self._turn.result.done():
            self._end(self._turn, self._turn.detector.hangup(at))

    def catch_up(self) -> None:
        """Count frames that never arrived as silence, so a turn ends on time."""
        turn = self._turn
        if turn is None or turn.result.done():
            return
        now = self._clock()
        last = max(self._last_at if self._last_at is not None else turn.opened, turn.opened)
        while now - last >= 2 * FRAME and not turn.result.done():
            last += FRAME
            self._last_at = last
            self._on(turn, turn.detector.feed(False, last), None)

    # -- used by the call context ------------------------------------------------------
    def arm_barge_in(
        self,
        on_barge_in: Callable[[BargeIn], None] | None,
        backchannels: Backchannels | None = None,
    ) -> None:
        """While a prompt plays: call ``on_barge_in`` when the callee talks over it (with
        ``backchannels``, unless the words say "go on"). None: the prompt is over, and speech
        still being heard is the callee's turn."""
        self._barge = on_barge_in
        self._words = backchannels if on_barge_in is not None and self._rec is not None else None
        self._run = []
        if on_barge_in is None:
            self._probe = None

    async def listen(self, phrases: Sequence[str] | None = None) -> Heard:
        """The callee's next turn (or the one a barge-in already opened)."""
        if self._turn is None:
            self._send(tuple(phrases) if phrases else ())
            turn = self._open(self._clock(), barged_in=False)
        else:
            turn = self._turn
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.no_input + self.config.max_utterance + 5.0
        while not turn.result.done():
            await asyncio.wait({turn.result}, timeout=2 * FRAME)
            self.catch_up()
            if loop.time() > deadline:
                self._end(turn, turn.detector.hangup(self._clock()))
                await asyncio.wait({turn.result}, timeout=5.0)
                break
        self._turn = None
        if not turn.result.done():
            turn.result.set_result(Heard("", 0.0, EndReason.HANGUP, turn.opened, None, None, self._clock()))
        return turn.result.result()

    async def aclose(self) -> None:
        if self._decoder is not None:
            self._decoder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._decoder
        if self._rec is not None:
            await self._rec.aclose()

    # -- internals --------------------------------------------------------------------
    def _open(self, opened: float, *, barged_in: bool) -> _Turn:
        self._turn = _Turn(self.config, opened, barged_in)
        return self._turn

    def _feed(self, frame: _Frame) -> None:
        turn = self._turn
        if turn is None or turn.result.done():
            return
        self._on(turn, turn.detector.feed(frame.speech, frame.at), frame)

    def _on(self, turn: _Turn, events: list[TurnEvent], frame: _Frame | None) -> None:
        """A frame's turn events (``frame`` None: a frame that never arrived, counted as silence)."""
        started = False
        for event in events:
            if isinstance(event, SpeechStarted):
                turn.pushing = started = True
                first = event.at - self.config.pre_roll
                for earlier in self._ring:  # the pre-roll and the speech so far, this frame included
                    if first <= earlier.at - FRAME:
                        self._push(earlier.pcm)
            elif isinstance(event, Paused) and turn.pushing and self._rec is not None:
                turn.held = []
                self._send(_Speculate(self.config.trailing_silence - self.config.speculate_after))
            elif isinstance(event, TurnEnded):
                self._end(turn, event)
                return
        if frame is None or not turn.pushing or started:
            return
        if turn.held is None:
            self._push(frame.pcm)
        elif frame.speech:  # the pause was inside the turn: the recognizer gets all of it
            held, turn.held = turn.held, None
            for pcm in (*held, frame.pcm):
                self._push(pcm)
        else:
            turn.held.append(frame.pcm)

    def _push(self, pcm: bytes) -> None:
        self.speech_seconds += FRAME
        self._send(pcm)

    def _end(self, turn: _Turn, ended: TurnEnded) -> None:
        if turn.result.done():
            return
        if self._rec is not None and turn.pushing:
            self._send(_Finish(turn, ended))  # the decoder resolves the turn with the transcript
        else:
            turn.result.set_result(_heard(turn, ended, "", 0.0))

    def _send(self, item: _Item) -> None:
        if self._rec is None:
            return
        if self._decoder is None:
            self._decoder = asyncio.create_task(self._decode(), name="decoder")
        self._queue.append(item)
        self._queued.set()

    def _next(self) -> _Item:
        """The next item; audio chunks queued one after another come as one."""
        item = self._queue.popleft()
        if isinstance(item, bytes):
            chunks = [item]
            while self._queue and isinstance(self._queue[0], bytes):
                chunks.append(self._queue.popleft())  # type: ignore[arg-type]
            item = b"".join(chunks)
        return item

    def _decide_early(self, partial: str) -> None:
        """A recognizer that streams (vosk) gives words while the callee still speaks: words
        that are not acknowledgement stop the prompt then, without waiting for the turn's end."""
        probe = self._probe
        if probe is not None and partial.strip() and not probe.words.lets_go_on(partial):
            self._probe = None
            probe.fire(BargeIn(probe.start, self._clock()))

    def _let_go_on(self, finish: _Finish, text: str) -> bool:
        """A probe's words are in: drop the turn and let the prompt go on (True), or stop the
        prompt now (False; the turn is the callee's)."""
        probe = self._probe
        if probe is None or probe.turn is not finish.turn:
            return False
        self._probe = None
        if not probe.words.lets_go_on(text):
            probe.fire(BargeIn(probe.start, self._clock()))
            return False
        end = finish.ended.speech_end if finish.ended.speech_end is not None else finish.ended.at
        self.backchannels.append(Backchannel(text, probe.start, end))
        if self._turn is finish.turn:
            self._turn = None
        self._barge, self._run = probe.fire, []  # the prompt plays on, and can still be stopped
        return True

    async def _decode(self) -> None:
        assert self._rec is not None
        while True:
            if not self._queue:
                self._queued.clear()
                await self._queued.wait()
                continue
            item = self._next()
            try:
                if isinstance(item, bytes):
                    partial = await self._rec.push(item)
                    if partial is not None:
                        self.partials.append(partial)
                        self._decide_early(partial.text)
                elif isinstance(item, _Speculate):
                    self._rec.speculate(item.within)
                elif isinstance(item, _Finish):
                    final = await self._rec.finish()
                    if not item.turn.result.done() and not self._let_go_on(item, final.text):
                        item.turn.result.set_result(
                            _heard(item.turn, item.ended, final.text, final.confidence)
                        )
                else:
                    self._rec.set_phrases(list(item) or None)
            except Exception:
                log.exception("speech recognition failed")
                if isinstance(item, _Finish) and not item.turn.result.done():
                    item.turn.result.set_result(_heard(item.turn, item.ended, "", 0.0))


def _heard(turn: _Turn, ended: TurnEnded, text: str, confidence: float) -> Heard:
    return Heard(
        text,
        confidence,
        ended.reason,
        turn.opened,
        ended.speech_start,
        ended.speech_end,
        ended.at,
        turn.barged_in,
    )

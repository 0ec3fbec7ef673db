"""A call that follows a sales script: the pure script step, driven by what the callee says.

The behaviour turns the script's actions into I/O (prompts, listening, transfer,
hangup) and the callee's turns into events (classified intent and entities, or
silence). Everything the script decided lands in ``call.script`` for the record.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from voicebot.calls.context import CallContext, ScriptResult
from voicebot.dialog.check import check_script, inside
from voicebot.dialog.classifier import (
    Classifier,
    IntentClassifier,
    Prediction,
    extract_entities,
    settle,
)
from voicebot.dialog.flow import Flow, Say, load_flow
from voicebot.dialog.grading import grade_by_rules
from voicebot.dialog.intents import NluData, load_nlu, nlu_files
from voicebot.dialog.rasa import RasaClassifier
from voicebot.dialog.script import (
    Event,
    Hangup,
    Listen,
    OptOut,
    SayAction,
    ScheduleCallback,
    Script,
    Silence,
    Started,
    State,
    Transfer,
    Understood,
)
from voicebot.errors import ScriptError
from voicebot.media.stream import PlayResult
from voicebot.qa.check import check_rubric
from voicebot.qa.rubric import RUBRIC_FILE, Rubric, load_rubric
from voicebot.speech.backchannel import Backchannels
from voicebot.speech.prompts import Prompt, PromptCache
from voicebot.speech.turns import EndReason


@dataclass(frozen=True)
class LoadedScript:
    """A script directory, loaded and trained once per process."""

    directory: Path
    flow: Flow
    nlu: NluData
    classifier: Classifier
    voice: str
    #: The quality rubric beside the script (qa.yml): every call of it is scored when it ends.
    rubric: Rubric | None = None

    @classmethod
    def load(cls, directory: Path, default_voice: str, *, rasa_url: str | None = None) -> LoadedScript:
        """Load and train; with ``rasa_url`` a Rasa server classifies instead of the built-in model."""
        files = nlu_files(directory)
        if not files:
            raise ScriptError("no nlu.yml in the script directory", file=str(directory))
        # a script that fails its check (a missing node, a recording outside its directory)
        # would fail in the middle of a call: it is refused here, with the first error
        errors = [f for f in check_script(directory) if f.severity == "error"]
        if errors:
            first = errors[0]
            raise ScriptError(
                first.message + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
                file=first.file,
                line=first.line,
                hint=f"run: voicebot script check {directory}",
            )
        # so is a rubric that fails `voicebot qa check` (a rule that could never fire)
        rubric = None
        if (directory / RUBRIC_FILE).exists():
            problems = [f for f in check_rubric(directory) if f.severity == "error"]
            if problems:
                first = problems[0]
                raise ScriptError(
                    first.message,
                    file=first.file,
                    line=first.line,
                    hint=f"run: voicebot qa check {directory}",
                )
            rubric = load_rubric(directory)
        flow, _lines = load_flow(directory / "flow.yml")
        nlu = load_nlu(files)
        threshold = flow.understanding.threshold
        classifier: Classifier = (
            RasaClassifier(rasa_url, threshold=threshold)
            if rasa_url
            else IntentClassifier.train(nlu, threshold=threshold)
        )
        return cls(directory, flow, nlu, classifier, flow.voice or default_voice, rubric)

    def prompt(self, name: str, say: Say, variant: int = 0) -> Prompt:
        if say.recording and not inside(self.directory, say.recording):
            raise ScriptError(
                f"recording {say.recording!r} is outside the script directory",
                file=str(self.directory / "flow.yml"),
            )
        recording = (self.directory / say.recording) if say.recording else None
        text = say.text[variant % len(say.text)] if say.text else ""
        return Prompt(name, text, voice=self.voice, recording=recording)

    def understand(
        self, text: str, at: float = 0.0, node: str | None = None
    ) -> tuple[Prediction, Understood]:
        """The callee's words as a script event: classified intent and extracted entities; at a
        ``node``, likely intents that lead to the same step there add up (:func:`settle`).
        Blocking (a Rasa backend makes a network call)."""
        prediction = self.classifier.predict(text)
        if node is not None:
            routes = Script(self.flow).routes(node)
            prediction = settle(prediction, routes, self.classifier.threshold)
        entities = extract_entities(text, self.nlu)
        return prediction, Understood(prediction.intent, text, prediction.confidence, entities, at=at)

    def backchannels(self, node: str) -> Backchannels | None:
        """What lets a prompt at ``node`` go on when the callee speaks over it (None: any speech
        stops it): the node's own list, or the flow's, or the language's."""
        chosen = self.flow.nodes[node].backchannels
        if chosen is False:
            return None
        taking = self.flow.turn_taking
        return Backchannels.for_language(
            self.flow.language,
            chosen if isinstance(chosen, tuple) else taking.backchannels,
            taking.stop_words,
            taking.max_backchannel_seconds,
        )

    def prompts(self) -> list[Prompt]:
        """Every fixed prompt of the flow, to render when the script loads."""
        out = []
        for name, node in self.flow.nodes.items():
            out += [self.prompt(name, node.say, i) for i in range(max(1, len(node.say.text)))]
            for kind, retry in (("no_match", node.no_match), ("no_input", node.no_input)):
                if retry is not None and retry.say is not None:
                    out.append(self.prompt(f"{name}.{kind}", retry.say))
        for name, handler in {**self.flow.globals, **self.flow.exits}.items():
            if handler.say is not None:
                out.append(self.prompt(name, handler.say))
        return out


class ScriptedCall:
    def __init__(
        self,
        script: LoadedScript,
        prompts: PromptCache,
        call_id: str,
        variables: Mapping[str, str] | None = None,
        *,
        start: str | None = None,
    ) -> None:
        self._loaded = script
        self._start = start
        self._script = Script(script.flow)
        self._prompts = prompts
        self._variant = zlib.crc32(call_id.encode())  # the same call always picks the same variants
        self._variables = dict(variables or {})

    async def run(self, call: CallContext) -> None:
        result = call.script = ScriptResult()
        state, actions = self._script.step(State(), Started(at=call.now(), node=self._start))
        try:
            while True:
                event: Event | None = None
                if any(isinstance(a, OptOut) for a in actions) and not result.opted_out:
                    # block the number before the apology is spoken, not after it
                    result.opted_out = True
                    await call.note("opt_out")
                for action in actions:
                    match action:
                        case SayAction(name, say, barge_in):
                            prompt = self._loaded.prompt(name, say, self._variant)
                            pcm = await self._prompts.audio(prompt, self._variables)
                            if (
                                await call.play(
                                    pcm,
                                    name=name,
                                    barge_in=barge_in,
                                    text=prompt.text,
                                    backchannels=self._loaded.backchannels(state.node),
                                )
                                is PlayResult.HUNGUP
                            ):
                                return
                        case Listen(phrases):
                            event = await self._hear(call, phrases, state.node)
                            if event is None:
                                return
                        case Transfer(queue):
                            result.transfer_to = queue
                        case Hangup():
                            pass
                        case OptOut():
                            pass  # noted above, before anything was said
                        case ScheduleCallback(when):
                            result.callback = when or "unspecified"
                if state.ended or event is None:
                    return
                state, actions = self._script.step(state, event)
                self._record(result, state)
        finally:
            self._record(result, state)
            result.grade = grade_by_rules(
                self._loaded.flow.grading,
                connected=bool(state.path),
                outcome=state.disposition,
                intents=state.intents,
                path=state.path,
                turns=state.turns,
                seconds=call.now() - state.started_at,
            )

    async def _hear(self, call: CallContext, phrases: tuple[str, ...], node: str) -> Event | None:
        heard = await call.hear(list(phrases) or None)
        if heard.reason is EndReason.HANGUP:
            return None
        if heard.reason is EndReason.NO_INPUT:
            return Silence(at=call.now())
        if not heard.text.strip():  # speech, but nothing recognized
            return Understood(None, "", 0.0, {}, at=call.now())
        # a thread: the built-in model takes ~1 ms, a Rasa server a network round trip
        prediction, event = await asyncio.to_thread(self._loaded.understand, heard.text, call.now(), node)
        call.understood(prediction.intent, prediction.confidence)
        await call.note(
            "understood",
            intent=prediction.intent,
            confidence=prediction.confidence,
            source=prediction.source,
            entities=dict(event.entities),
        )
        return event

    @staticmethod
    def _record(result: ScriptResult, state: State) -> None:
        result.node_path = list(state.path)
        result.intents = list(state.intents)
        if state.ended:
            result.outcome = state.disposition

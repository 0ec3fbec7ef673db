"""Conversation tests for a script (``tests.yml``), like Rasa's test stories.

```yaml
tests:
- name: interested caller is transferred
  steps:
  - bot: opening                 # the prompt the bot says next (node, or node.no_input, or a global)
  - user: yes I'm interested     # what the callee says ("" or the word silence: says nothing)
    intent: interested           # optional: what it must be understood as
  - bot: offer
  - user: yes please
  - bot: transfer
  end: transferred               # optional: how the call ends
  grade: A                       # optional
- name: no adviser free, callback
  start: no_agent                # optional: where the conversation starts (an entry node)
  steps: [...]
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from voicebot.calls.scripted import LoadedScript
from voicebot.dialog.grading import grade
from voicebot.dialog.script import Action, SayAction, Script, Silence, Started, State
from voicebot.dialog.yamlfile import load_model

_HINT = (
    "a test is 'name:', 'steps:' (each 'bot: PROMPT' or 'user: TEXT'), and optional 'start:', 'end:' "
    "and 'grade:'"
)


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) else value


Text = Annotated[str, BeforeValidator(_text)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Model):
    bot: Text | None = None
    user: Text | None = None  # "" or "silence": the callee says nothing
    intent: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _silence(cls, data: Any) -> Any:
        if isinstance(data, dict) and "user" in data and data["user"] is None:
            return {**data, "user": ""}  # 'user:' with nothing after it: silence
        return data

    @model_validator(mode="after")
    def _one(self) -> Step:
        if (self.bot is None) == (self.user is None):
            raise ValueError("a step is 'bot: PROMPT' or 'user: TEXT'")
        if self.intent is not None and self.user is None:
            raise ValueError("'intent' goes with a 'user' step")
        return self


class Story(_Model):
    name: Text | None = None
    #: The node the conversation starts at: the flow's start, or another entry (no_agent).
    start: str | None = None
    steps: tuple[Step, ...] = ()
    end: str | None = None
    grade: str | None = None


class TestsFile(_Model):
    tests: tuple[Story, ...]


@dataclass
class StoryResult:
    name: str
    line: int
    failures: list[str] = field(default_factory=list)
    path: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failures


def run_stories(loaded: LoadedScript, path: Path) -> list[StoryResult]:
    tests, lines = load_model(path, TestsFile, hint=_HINT)
    return [_run(loaded, story, lines.get(("tests", str(i)), 0)) for i, story in enumerate(tests.tests)]


def _run(loaded: LoadedScript, story: Story, line: int) -> StoryResult:
    result = StoryResult(story.name or f"test at line {line}", line)
    script = Script(loaded.flow)
    if story.start is not None and story.start not in loaded.flow.nodes:
        result.failures.append(f"start: no node {story.start!r}")
        return result
    state, actions = script.step(State(), Started(node=story.start))
    said = _said(actions)
    for number, step in enumerate(story.steps, start=1):
        if step.bot is not None:
            if not said:
                result.failures.append(
                    f"step {number}: expected the bot to say {step.bot!r}, it said nothing"
                )
            elif said[0] != step.bot:
                result.failures.append(
                    f"step {number}: expected the bot to say {step.bot!r}, it said {said[0]!r}"
                )
            said = said[1:]
        elif step.user is not None:
            if state.ended:
                result.failures.append(f"step {number}: the call already ended ({state.disposition})")
                break
            if step.user.strip().lower() in ("", "silence"):
                state, actions = script.step(state, Silence())
            else:
                p, understood = loaded.understand(step.user, node=state.node)
                if step.intent is not None and p.intent != step.intent:
                    result.failures.append(
                        f"step {number}: {step.user!r} understood as {p.intent!r} "
                        f"({p.confidence:.2f}), expected {step.intent!r}"
                    )
                state, actions = script.step(state, understood)
            said = _said(actions)
    if story.end is not None and state.disposition != story.end:
        result.failures.append(f"ended {state.disposition or 'not at all'}, expected {story.end!r}")
    if story.grade is not None:
        got = grade(connected=True, outcome=state.disposition, intents=state.intents)
        if got != story.grade:
            result.failures.append(f"grade {got}, expected {story.grade}")
    result.path = state.path
    return result


def _said(actions: list[Action]) -> list[str]:
    return [a.prompt for a in actions if isinstance(a, SayAction)]

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
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from voicebot.calls.scripted import LoadedScript
from voicebot.dialog.grading import grade
from voicebot.dialog.script import Action, SayAction, Script, Silence, Started, State
from voicebot.dialog.yamlfile import ScriptLoader
from voicebot.errors import ScriptError


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
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=ScriptLoader)
    except yaml.MarkedYAMLError as e:
        raise ScriptError(
            f"not valid YAML: {e.problem}",
            file=str(path),
            line=e.problem_mark.line + 1 if e.problem_mark else None,
        ) from e
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=ScriptLoader) or {}
    tests = data.get("tests") if isinstance(data, dict) else None
    if not isinstance(tests, list):
        raise ScriptError("expected 'tests:' with a list of conversations", file=str(path), line=1)
    nodes = _sequence_nodes(root)
    return [_run(loaded, story, nodes[i] if i < len(nodes) else 0) for i, story in enumerate(tests)]


def _sequence_nodes(root: yaml.Node | None) -> list[int]:
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "tests" and isinstance(value, yaml.SequenceNode):
                return [item.start_mark.line + 1 for item in value.value]
    return []


def _run(loaded: LoadedScript, story: dict, line: int) -> StoryResult:  # type: ignore[type-arg]
    result = StoryResult(str(story.get("name", f"test at line {line}")), line)
    script = Script(loaded.flow)
    state, actions = script.step(State(), Started())
    said = _said(actions)
    for number, step in enumerate(story.get("steps") or [], start=1):
        if "bot" in step:
            expected = str(step["bot"])
            if not said:
                result.failures.append(
                    f"step {number}: expected the bot to say {expected!r}, it said nothing"
                )
            elif said[0] != expected:
                result.failures.append(
                    f"step {number}: expected the bot to say {expected!r}, it said {said[0]!r}"
                )
            said = said[1:]
        elif "user" in step:
            if state.ended:
                result.failures.append(f"step {number}: the call already ended ({state.disposition})")
                break
            text = str(step["user"] or "")
            if text.strip().lower() in ("", "silence"):
                state, actions = script.step(state, Silence())
            else:
                p, understood = loaded.understand(text)
                if "intent" in step and p.intent != step["intent"]:
                    result.failures.append(
                        f"step {number}: {text!r} understood as {p.intent!r} "
                        f"({p.confidence:.2f}), expected {step['intent']!r}"
                    )
                state, actions = script.step(state, understood)
            said = _said(actions)
        else:
            result.failures.append(f"step {number}: a step is 'bot: PROMPT' or 'user: TEXT'")
    if "end" in story and state.disposition != story["end"]:
        result.failures.append(f"ended {state.disposition or 'not at all'}, expected {story['end']!r}")
    if "grade" in story:
        got = grade(connected=True, outcome=state.disposition, intents=state.intents)
        if got != story["grade"]:
            result.failures.append(f"grade {got}, expected {story['grade']}")
    result.path = state.path
    return result


def _said(actions: list[Action]) -> list[str]:
    return [a.prompt for a in actions if isinstance(a, SayAction)]

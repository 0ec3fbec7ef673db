"""The rubric file: the rules every call is scored by (``qa.yml`` beside a script). Pure models.

A rubric has a total (10), a pass mark (9) and rules. Each rule is either scored by a person
(``manual: true``: tone, clarity) or checked on every call: ``must`` (a condition the call has
to meet; not meeting it costs the rule's points) or ``must_not`` (a condition the call must not
meet). A ``fatal`` rule fails the call outright. Conditions are the rule types of call-center QA
products::

    keywords: {any: [...], all: [...], none: [...], at_least: N, speaker: bot, scope: turn|call, turns: first}
    regex:    {pattern: "...", exclude: ["..."], speaker: callee}
    silence:  {longer_than: 5, speaker: bot}      # the speaker's pause before answering the other
    rate:     {speaker: bot, above: 220}          # words (or CJK characters) a minute
    talk_over: {speaker: callee, longer_than: 1}  # the turn starts that long before the other's ended
    repeated: {times: 2}                          # one bot prompt said that many times
    hangup:   {by: bot, waited: false}            # who ended the call (bot, callee, pbx, abnormal)
    duration: {longer_than: 300}
    intent:   [opt_out]                           # the callee's turns understood so
    node:     {any: [offer], other_than: [...], cut: true}   # the bot's prompts (script nodes)
    agent:    {answered_within: 20, wrapped_within: 120, talk_shorter_than: 10, notes: true}
    after:    {first: COND, then: COND, next: true, at_least: 2}
    before:   {first: COND, then: COND}
    all: [COND, ...]   any: [COND, ...]   not: COND

Texts may say ``{company}``: the script's company. An ``agent:`` section is a rubric of its own
for the agents' part of transferred calls (its automatic rules check ``agent:``, the hand-off and
the wrap-up; its manual ones are scored by ear from the agent's recording).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from voicebot.dialog.yamlfile import load_model

Speaker = Literal["bot", "callee", "any"]
_ID = r"^[a-z][a-z0-9_]{0,63}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _regex(value: str) -> str:
    try:
        re.compile(value.replace("{company}", "company"))
    except re.error as e:
        raise ValueError(f"not a regular expression: {e}") from None
    return value


class Keywords(_Model):
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    #: With ``any``: at least this many of its words (N of).
    at_least: int = Field(1, ge=1)
    speaker: Speaker = "any"
    #: ``turn``: one turn holds them all; ``call``: the turns together do.
    scope: Literal["turn", "call"] = "turn"
    turns: Literal["all", "first", "last"] = "all"

    @model_validator(mode="after")
    def _some(self) -> Keywords:
        if not (self.any or self.all or self.none):
            raise ValueError("give any, all or none: the words to look for")
        if self.at_least > max(1, len(self.any)):
            raise ValueError(f"at_least {self.at_least} is more than the {len(self.any)} words of any")
        return self


class Regex(_Model):
    pattern: str = Field(max_length=500)
    exclude: tuple[str, ...] = ()
    speaker: Speaker = "any"
    turns: Literal["all", "first", "last"] = "all"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return _regex(value)

    @field_validator("exclude")
    @classmethod
    def _excludes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_regex(v) for v in value)


class Silence(_Model):
    longer_than: float = Field(gt=0)
    speaker: Speaker = "any"


class Rate(_Model):
    speaker: Speaker = "bot"
    above: float | None = Field(None, gt=0)
    below: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _bound(self) -> Rate:
        if self.above is None and self.below is None:
            raise ValueError("give above or below (words a minute)")
        return self


class TalkOver(_Model):
    speaker: Speaker = "callee"
    longer_than: float = Field(0.0, ge=0)


class Repeated(_Model):
    times: int = Field(2, ge=2)


class Hangup(_Model):
    #: bot, callee, pbx (the PBX cut it), abnormal (an error, the call's time limit), any
    by: Literal["bot", "callee", "pbx", "abnormal", "any"] = "any"
    #: With ``by: bot``: the bot waited for the callee to hang up first (true) or not (false).
    waited: bool | None = None


class Duration(_Model):
    longer_than: float | None = Field(None, ge=0)
    shorter_than: float | None = Field(None, gt=0)


class Nodes(_Model):
    any: tuple[str, ...] = ()
    other_than: tuple[str, ...] = ()
    #: Only prompts the callee cut short (true) or heard to the end (false).
    cut: bool | None = None


class AgentLeg(_Model):
    """The agent's part of a transferred call (its hand-off and wrap-up); a hit when every check
    given holds."""

    #: The callee waited at most this long in the queue for the agent.
    answered_within: float | None = Field(None, gt=0)
    #: The agent filed the wrap-up at most this long after the call ended.
    wrapped_within: float | None = Field(None, gt=0)
    talk_longer_than: float | None = Field(None, ge=0)
    talk_shorter_than: float | None = Field(None, gt=0)
    #: The agent's disposition is one of these.
    disposition: tuple[str, ...] | None = None
    #: The agent wrote notes (true) or none (false).
    notes: bool | None = None

    @model_validator(mode="after")
    def _some(self) -> AgentLeg:
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError("give a check: answered_within, wrapped_within, talk_longer_than, ...")
        return self


class Sequence(_Model):
    first: Condition
    then: Condition
    #: Only the turn right after ``first``'s hit (``after`` only).
    next: bool = False
    at_least: int = Field(1, ge=1)


class Condition(_Model):
    keywords: Keywords | None = None
    regex: Regex | None = None
    silence: Silence | None = None
    rate: Rate | None = None
    talk_over: TalkOver | None = None
    repeated: Repeated | None = None
    hangup: Hangup | None = None
    duration: Duration | None = None
    intent: tuple[str, ...] | None = None
    node: Nodes | None = None
    agent: AgentLeg | None = None
    after: Sequence | None = None
    before: Sequence | None = None
    all: tuple[Condition, ...] | None = None
    any: tuple[Condition, ...] | None = None
    not_: Condition | None = Field(None, alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one(self) -> Condition:
        kinds = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(kinds) != 1:
            said = ", ".join(k.rstrip("_") for k in kinds) or "nothing"
            raise ValueError(
                f"a condition is exactly one check (keywords, regex, silence, ...); this has {said}"
            )
        return self


class Rule(_Model):
    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1, max_length=200)
    points: float = Field(0, ge=0)
    fatal: bool = False
    manual: bool = False
    must: Condition | None = None
    must_not: Condition | None = None

    @model_validator(mode="after")
    def _how(self) -> Rule:
        checks = (self.must is not None) + (self.must_not is not None)
        if self.manual and checks:
            raise ValueError("a manual rule is scored by an inspector: give it no must or must_not")
        if not self.manual and checks != 1:
            raise ValueError("give the rule one of must (the call has to) or must_not (it must not)")
        if not self.fatal and self.points == 0:
            raise ValueError("a rule costs points, or is fatal: give it points")
        return self


class Rubric(_Model):
    rubric: str = Field(min_length=1, max_length=100)
    total: float = Field(10, gt=0)
    pass_mark: float = Field(9, ge=0)
    rules: tuple[Rule, ...] = Field(min_length=1)
    #: The agents' part of transferred calls, scored when the agent files the wrap-up: its own
    #: rubric (name, total, pass mark, rules), whose automatic rules check ``agent:``.
    agent: Rubric | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        if self.pass_mark > self.total:
            raise ValueError(f"pass_mark {self.pass_mark:g} is above the total {self.total:g}")
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"two rules are called {rule.id!r}: ids are unique")
            seen.add(rule.id)
        return self


Sequence.model_rebuild()
Condition.model_rebuild()
Rubric.model_rebuild()

RUBRIC_FILE = "qa.yml"
HINT = "see docs/quality.md for the rubric file"


def load_rubric(path: Path) -> Rubric:
    """The rubric in ``path`` (a file, or a script directory holding ``qa.yml``); a located
    ScriptError for a bad one."""
    if path.is_dir():
        path = path / RUBRIC_FILE
    rubric, _ = load_model(path, Rubric, hint=HINT)
    return rubric

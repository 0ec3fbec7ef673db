"""The flow file: what the bot says and where each answer leads. Schema and loader.

```yaml
script: broadband-en
company: Acme Broadband
start: opening
limits: {max_turns: 20, max_seconds: 300}
globals:                  # answerable from any node; then the node asks again
  ask_identity: {say: "This is Acme Broadband's automated assistant."}
exits:                    # from any node, ending or moving the call
  opt_out: {say: "Sorry to have bothered you...", end: opted_out, opt_out: true}
  ask_human: {goto: transfer}
nodes:
  opening:
    say: "Hello, this is an automated call from Acme Broadband..."
    barge_in: false
    next: {interested: offer, affirm: offer, not_interested: goodbye}
    no_match: {say: "Sorry, could you say that again?", retries: 1, then: offer}
    no_input: {say: "Hello, are you there?", retries: 1, then: goodbye}
  offer: ...
  transfer: {say: "Let me put you through.", transfer: agents}
  goodbye: {say: "Thank you, goodbye.", end: completed}
```

Validation errors carry the file and the line of the offending key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from voicebot.dialog.yamlfile import load_model

#: The node a callee comes back to when no agent took the transfer in time (an entry, like start).
NO_AGENT = "no_agent"
#: The node the bot starts at when a callee calls back outside the agents' hours (an entry too;
#: without it the bot answers from NO_AGENT).
INBOUND = "inbound"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Say(_Model):
    """What a node or handler says: text variants (one is picked per call), or a recording."""

    text: tuple[str, ...] = ()
    recording: str | None = None


def _as_say(value: Any) -> Any:
    if isinstance(value, str):
        return {"text": (value,)}
    if isinstance(value, list):
        return {"text": tuple(value)}
    return value


_TEXTS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
#: ``say:`` is a text, a list of variants, or {text: [...], recording: file.wav}.
SayField = Annotated[
    Say,
    BeforeValidator(_as_say),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                _TEXTS,
                {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"text": _TEXTS, "recording": {"type": "string"}},
                },
            ]
        }
    ),
]


class Retry(_Model):
    say: SayField | None = None
    retries: int = Field(1, ge=0, le=5)
    then: str  # node after the retries run out


class Handler(_Model):
    """A global intent or exit: say something, then go somewhere (or return)."""

    say: SayField | None = None
    goto: str | None = None
    end: str | None = None  # disposition when the call ends here
    opt_out: bool = False  # put the number on the do-not-call list
    callback: bool = False  # ask for and schedule a callback


class Branch(_Model):
    """Go to ``then`` when the callee's turn has this entity (and intent, and value, if given)."""

    entity: str
    value: str | None = None  # any value when absent
    intent: str | None = None  # any intent when absent
    then: str


class TurnTaking(_Model):
    """How the bot takes the callee's speech over its prompts (the language's lists when absent)."""

    #: Short speech over a prompt that says only these lets the prompt go on.
    backchannels: tuple[str, ...] | None = None
    #: ... unless it has one of these.
    stop_words: tuple[str, ...] | None = None
    #: Speech longer than this stops the prompt at once, whatever it says.
    max_backchannel_seconds: float = Field(1.2, gt=0, le=5)


class Understanding(_Model):
    """How sure the intent classifier must be: below ``threshold`` the callee's words are no
    match and the node's ``no_match`` answers. ``voicebot nlu calibrate`` finds the threshold
    that keeps wrong answers under a rate you choose."""

    threshold: float = Field(0.4, ge=0, le=1)


class Node(_Model):
    say: SayField
    barge_in: bool = True
    #: While this node's prompt plays: ``false``, any speech stops it (no backchannels);
    #: a list, this node's own backchannels (instead of the flow's).
    backchannels: bool | tuple[str, ...] = True
    listen: bool = True
    phrases: tuple[str, ...] = ()  # recognition hints while listening here
    # intent -> next node (not "on:", which YAML reads as the boolean true)
    next: dict[str, str] = Field(default_factory=dict)
    #: Tried before ``next``: branches on entities ("I'm with Comcast" -> a competitor answer).
    branches: tuple[Branch, ...] = ()
    no_match: Retry | None = None
    no_input: Retry | None = None
    #: The extension in voicebot-transfer to hand the call to (it reaches the PBX over AGI).
    transfer: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    end: str | None = None  # disposition: the call ends after saying this
    #: Schedule a callback when the call reaches this node (the campaign's default delay, moved
    #: into the calling window), as an exit with ``callback: true`` does.
    callback: bool = False


class GradeRule(_Model):
    """A grade when every condition given holds; the flow's rules are tried in order."""

    grade: str = Field(pattern="^[A-Z]$")
    outcome: tuple[str, ...] = ()  # the call ended with one of these
    intents_any: tuple[str, ...] = ()  # the callee expressed at least one of these
    intents_all: tuple[str, ...] = ()
    intents_none: tuple[str, ...] = ()
    min_count: dict[str, int] = Field(default_factory=dict)  # intent -> times at least
    reached: tuple[str, ...] = ()  # the call passed through one of these nodes
    min_turns: int | None = None
    min_seconds: float | None = None


class Limits(_Model):
    max_turns: int = Field(30, ge=1)
    max_seconds: float = Field(600, gt=0)


class Flow(_Model):
    script: str
    company: str
    language: str = "en"
    voice: str | None = None
    start: str
    limits: Limits = Limits()
    turn_taking: TurnTaking = TurnTaking()
    understanding: Understanding = Understanding()
    globals: dict[str, Handler] = Field(default_factory=dict)
    exits: dict[str, Handler] = Field(default_factory=dict)
    nodes: dict[str, Node]
    #: Lead grading, first matching rule wins; without rules (or none matching) the default A-F scale.
    grading: tuple[GradeRule, ...] = ()


def load_flow(path: Path) -> tuple[Flow, dict[tuple[str, ...], int]]:
    """The flow, and the line of every key path (for checks that point at a line)."""
    return load_model(path, Flow, hint="see the flow file schema in docs/script-writers.md")

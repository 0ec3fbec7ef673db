"""The script step: a pure function of (state, event) to (state, actions).

No I/O, no waiting: the call session turns actions into prompts, listening,
transfers and hangups, and feeds back what it heard. So a script is tested with
tables of events and the actions expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from voicebot.dialog.flow import Flow, Handler, Retry, Say

# -- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Started:
    at: float = 0.0
    #: Where the conversation starts: the flow's start, or another node (``no_agent``: the
    #: callee comes back from a queue where no agent took the call).
    node: str | None = None


@dataclass(frozen=True, slots=True)
class Understood:
    """The callee's turn, classified; ``intent`` None is no match."""

    intent: str | None
    text: str = ""
    confidence: float = 0.0
    entities: Mapping[str, str] = field(default_factory=dict)
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class Silence:
    """The callee said nothing (no-input timeout)."""

    at: float = 0.0


Event = Started | Understood | Silence

# -- actions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SayAction:
    prompt: str  # "<node>" or "<node>.no_match" ..., the name prompts are cached under
    say: Say
    barge_in: bool = True


@dataclass(frozen=True, slots=True)
class Listen:
    phrases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Transfer:
    queue: str


@dataclass(frozen=True, slots=True)
class Hangup:
    disposition: str


@dataclass(frozen=True, slots=True)
class OptOut:
    """Put the callee's number on the do-not-call list before the record closes."""


@dataclass(frozen=True, slots=True)
class ScheduleCallback:
    when: str | None  # what the callee said ("tomorrow morning"), resolved by the dialer


Action = SayAction | Listen | Transfer | Hangup | OptOut | ScheduleCallback

# -- state --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class State:
    node: str = ""
    started_at: float = 0.0
    turns: int = 0
    path: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    retries: tuple[tuple[str, int], ...] = ()  # ("node:no_match", count)
    ended: bool = False
    disposition: str | None = None
    opted_out: bool = False
    callback: str | None = None

    def count(self, key: str) -> int:
        return dict(self.retries).get(key, 0)

    def bump(self, key: str) -> State:
        counts = dict(self.retries)
        counts[key] = counts.get(key, 0) + 1
        return replace(self, retries=tuple(sorted(counts.items())))


LIMIT_DISPOSITION = "limit"


class Script:
    """A flow, stepped one event at a time."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def step(self, state: State, event: Event) -> tuple[State, list[Action]]:
        if state.ended:
            return state, []
        match event:
            case Started(at, entry):
                return self._enter(replace(state, started_at=at), entry or self.flow.start)
            case Understood(intent, _text, _conf, entities, at):
                state = replace(
                    state,
                    turns=state.turns + 1,
                    intents=(*state.intents, intent) if intent else state.intents,
                )
                if self._over_limits(state, at):
                    return self._end(state, LIMIT_DISPOSITION)
                return self._understood(state, intent, entities)
            case Silence(at):
                if self._over_limits(state, at):
                    return self._end(state, LIMIT_DISPOSITION)
                node = self.flow.nodes[state.node]
                return self._retry(state, "no_input", node.no_input)
        return state, []

    def routes(self, node: str) -> dict[str, str]:
        """Where each intent the callee may say at ``node`` leads, as a key two intents share when
        they lead to the same step ("node:transfer" for an ``affirm`` that goes to ``transfer`` and an
        ``ask_human`` exit that goes there too). An intent with an entity branch here, or a handler
        that says or does something of its own, has a key of its own."""
        here = self.flow.nodes[node]
        out = {name: f"handler:{name}" for name in self.flow.globals}
        for name, target in here.next.items():
            out[name] = f"node:{target}"
        for branch in here.branches:
            if branch.intent is not None:
                out[branch.intent] = f"intent:{branch.intent}"
        for name, handler in self.flow.exits.items():
            plain = handler.goto is not None and handler == Handler(goto=handler.goto)
            out[name] = f"node:{handler.goto}" if plain else f"handler:{name}"
        return out

    # -- internals -----------------------------------------------------------------------
    def _understood(
        self, state: State, intent: str | None, entities: Mapping[str, str]
    ) -> tuple[State, list[Action]]:
        node = self.flow.nodes[state.node]
        if intent is not None and intent in self.flow.exits:
            return self._handle(state, intent, self.flow.exits[intent], entities)
        for branch in node.branches:
            value = entities.get(branch.entity)
            if value is None or (branch.intent is not None and branch.intent != intent):
                continue
            if branch.value is None or branch.value.lower() == value.lower():
                return self._enter(state, branch.then)
        if intent is not None and intent in node.next:
            return self._enter(state, node.next[intent])
        if intent is not None and intent in self.flow.globals:
            return self._handle(state, intent, self.flow.globals[intent], entities)
        return self._retry(state, "no_match", node.no_match)

    def _handle(
        self, state: State, name: str, handler: Handler, entities: Mapping[str, str]
    ) -> tuple[State, list[Action]]:
        actions: list[Action] = []
        if handler.say is not None:
            actions.append(SayAction(name, handler.say))
        if handler.opt_out:
            state = replace(state, opted_out=True)
            actions.append(OptOut())
        if handler.callback:
            when = entities.get("callback_time")
            state = replace(state, callback=when or "")
            actions.append(ScheduleCallback(when))
        if handler.end is not None:
            state, more = self._end(state, handler.end)
            return state, actions + more
        if handler.goto is not None:
            state, more = self._enter(state, handler.goto)
            return state, actions + more
        # a global answer: back to the same node, listening again
        return state, [*actions, Listen(self.flow.nodes[state.node].phrases)]

    def _retry(self, state: State, kind: str, retry: Retry | None) -> tuple[State, list[Action]]:
        key = f"{state.node}:{kind}"
        node = self.flow.nodes[state.node]
        allowed = retry.retries if retry is not None else 1
        if state.count(key) < allowed:
            state = state.bump(key)
            say = retry.say if retry is not None and retry.say is not None else node.say
            return state, [SayAction(f"{state.node}.{kind}", say, node.barge_in), Listen(node.phrases)]
        if retry is None:
            return self._end(state, kind.replace("_", "-"))
        return self._enter(state, retry.then)

    def _enter(self, state: State, name: str) -> tuple[State, list[Action]]:
        node = self.flow.nodes[name]
        state = replace(state, node=name, path=(*state.path, name))
        actions: list[Action] = [SayAction(name, node.say, node.barge_in)]
        if node.callback:
            state = replace(state, callback=state.callback or "")
            actions.append(ScheduleCallback(None))
        if node.transfer is not None:
            state = replace(state, ended=True, disposition="transferred")
            return state, [*actions, Transfer(node.transfer)]
        if node.end is not None:
            state, more = self._end(state, node.end)
            return state, actions + more
        if node.listen:
            actions.append(Listen(node.phrases))
        return state, actions

    def _end(self, state: State, disposition: str) -> tuple[State, list[Action]]:
        return replace(state, ended=True, disposition=disposition), [Hangup(disposition)]

    def _over_limits(self, state: State, at: float) -> bool:
        limits = self.flow.limits
        return state.turns > limits.max_turns or at - state.started_at > limits.max_seconds

"""Scoring a call by a rubric. Pure: a :class:`CallView` in, a :class:`Inspection` out.

Every condition finds its *hits* in the call: moments (a turn, a gap, the end) with the text
that shows them. ``must`` is met when its condition has a hit, ``must_not`` when it has none.
A rule not met costs its points (a fatal one fails the call); the score is the total less the
points lost, never below 0, and the call passes at the pass mark unless a fatal rule failed.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from voicebot.qa.rubric import AgentLeg, Condition, Keywords, Regex, Rubric, Rule, Speaker
from voicebot.qa.rubric import Sequence as Seq

_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[A-Za-z0-9']+")


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: str
    text: str
    start: float
    end: float
    node: str | None = None
    cut: bool = False
    intent: str | None = None


@dataclass(frozen=True, slots=True)
class AgentView:
    """The agent's part of a transferred call: the hand-off and the wrap-up."""

    agent: str
    wait_seconds: float | None  # the callee's wait in the queue until the agent answered
    talk_seconds: float | None
    wrapped_after: float | None  # seconds from the call's end to the wrap-up
    disposition: str | None
    notes: str = ""

    @classmethod
    def of(cls, handoff: Any, agent: str) -> AgentView:
        """A stored hand-off (voicebot.store.handoffs.Handoff) as inspection reads it."""
        wrapped = None
        if handoff.wrapped_at is not None and handoff.ended_at is not None:
            wrapped = max(0.0, (handoff.wrapped_at - handoff.ended_at).total_seconds())
        return cls(
            agent,
            handoff.wait_seconds,
            handoff.talk_seconds,
            wrapped,
            handoff.disposition,
            handoff.notes or "",
        )


@dataclass(frozen=True, slots=True)
class CallView:
    """What inspection reads of a call: its turns, length, how it ended."""

    turns: tuple[Turn, ...]
    seconds: float
    #: bot-hangup, callee-hangup, max-duration, error, pbx (the PBX cut it); None: not answered
    ended_by: str | None
    bot_waited: bool = False  # the bot waited for the callee to hang up first
    variables: Mapping[str, str] = field(default_factory=dict)
    #: The agent's part, for the agent rubric (None: no agent took the call).
    agent: AgentView | None = None

    @classmethod
    def of(
        cls,
        record: Any,
        events: Sequence[Any] = (),
        variables: Mapping[str, str] | None = None,
        *,
        bot_waited: bool | None = None,
    ) -> CallView:
        """A stored call (a CallRecord and its events, or whether the bot waited for the
        callee's hangup) as inspection reads it."""
        turns = tuple(
            Turn(
                t.get("speaker", ""),
                t.get("text", "") or "",
                float(t.get("start") or 0.0),
                float(t.get("end") or 0.0),
                t.get("node"),
                bool(t.get("cut")),
                t.get("intent"),
            )
            for t in record.transcript or []
        )
        ended_by = "pbx" if record.end_reason and record.end_reason.startswith("pbx") else record.end_reason
        return cls(
            turns,
            float(record.talk_seconds or 0.0),
            ended_by,
            bot_waited=any(e.kind == "hangup_grace" for e in events) if bot_waited is None else bot_waited,
            variables=dict(variables or {}),
        )


@dataclass(frozen=True, slots=True)
class Hit:
    at: float
    turn: int | None
    evidence: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule on one call."""

    rule: str
    title: str
    met: bool | None  # None: a manual rule, left to the inspector
    points_lost: float
    fatal: bool
    evidence: tuple[str, ...] = ()
    points: float = 0.0  # what the rule can cost


@dataclass(frozen=True, slots=True)
class Inspection:
    rubric: str
    score: float
    total: float
    passed: bool
    findings: tuple[Finding, ...]

    @property
    def failed_rules(self) -> list[str]:
        return [f.rule for f in self.findings if f.met is False]

    def stored(self) -> dict[str, Any]:
        """The result as ``qa_results`` keeps it (rubric, score, total, passed, findings)."""
        findings = [dataclasses.asdict(f) for f in self.findings]
        return {"rubric": self.rubric, "score": self.score, "total": self.total, "passed": self.passed,
                "findings": findings}  # fmt: skip


def inspect(rubric: Rubric, call: CallView) -> Inspection:
    findings = tuple(_finding(rule, call) for rule in rubric.rules)
    lost = sum(f.points_lost for f in findings)
    fatal = any(f.fatal and f.met is False for f in findings)
    score = 0.0 if fatal else max(0.0, round(rubric.total - lost, 2))
    return Inspection(rubric.rubric, score, rubric.total, not fatal and score >= rubric.pass_mark, findings)


def _finding(rule: Rule, call: CallView) -> Finding:
    if rule.manual:
        return Finding(rule.id, rule.title, None, 0.0, rule.fatal, points=rule.points)
    condition = rule.must if rule.must is not None else rule.must_not
    assert condition is not None
    hits = hits_of(condition, call)
    met = bool(hits) if rule.must is not None else not hits
    evidence = tuple(f"{h.at:.1f}s {h.evidence}" for h in hits[:3])
    return Finding(rule.id, rule.title, met, 0.0 if met else rule.points, rule.fatal, evidence, rule.points)


def _agent(check: AgentLeg, leg: AgentView | None, at: float) -> list[Hit]:
    """One hit (the agent's part as a whole) when every check given holds."""
    if leg is None:
        return []
    talk = leg.talk_seconds or 0.0
    holds = [
        check.answered_within is None
        or (leg.wait_seconds is not None and leg.wait_seconds <= check.answered_within),
        check.wrapped_within is None
        or (leg.wrapped_after is not None and leg.wrapped_after <= check.wrapped_within),
        check.talk_longer_than is None or talk > check.talk_longer_than,
        check.talk_shorter_than is None or talk < check.talk_shorter_than,
        check.disposition is None or leg.disposition in check.disposition,
        check.notes is None or bool(leg.notes.strip()) == check.notes,
    ]
    if not all(holds):
        return []
    wait = "-" if leg.wait_seconds is None else f"{leg.wait_seconds:.0f} s"
    wrapped = "-" if leg.wrapped_after is None else f"{leg.wrapped_after:.0f} s"
    said = f"{leg.agent}: waited {wait}, talked {talk:.0f} s, wrapped up after {wrapped} ({leg.disposition})"
    return [Hit(at, None, said)]


def hits_of(c: Condition, call: CallView) -> list[Hit]:
    """Where ``c`` holds in the call, in time order (empty: nowhere)."""
    if c.keywords is not None:
        return _keywords(c.keywords, call)
    if c.regex is not None:
        return _regex(c.regex, call)
    if c.silence is not None:
        s = c.silence
        return [
            Hit(prev.end, i, f"{t.start - prev.end:.1f} s of silence before the {t.speaker}")
            for i, (prev, t) in enumerate(zip(call.turns, call.turns[1:], strict=False), 1)
            if t.start - prev.end > s.longer_than
            and (s.speaker == "any" or (t.speaker == s.speaker and prev.speaker != t.speaker))
        ]
    if c.rate is not None:
        r = c.rate
        out = []
        for i, t in _turns(call, r.speaker, "all"):
            wpm = _words(t.text) * 60 / max(t.end - t.start, 0.5)
            if (r.above is not None and wpm > r.above) or (r.below is not None and wpm < r.below):
                out.append(Hit(t.start, i, f"{wpm:.0f} words a minute: {t.text[:60]}"))
        return out
    if c.talk_over is not None:
        o = c.talk_over
        return [
            Hit(t.start, i, f"the {t.speaker} talked over the {prev.speaker} {prev.end - t.start:.1f} s")
            for i, (prev, t) in enumerate(zip(call.turns, call.turns[1:], strict=False), 1)
            if _speaks(t, o.speaker) and prev.speaker != t.speaker and prev.end - t.start > o.longer_than
        ]
    if c.repeated is not None:
        said = Counter(t.node or t.text for t in call.turns if t.speaker == "bot")
        return [
            Hit(t.start, i, f"{t.node or t.text[:40]!r} said {said[t.node or t.text]} times")
            for i, t in enumerate(call.turns)
            if t.speaker == "bot" and said[t.node or t.text] >= c.repeated.times
        ][-1:]
    if c.hangup is not None:
        return _hangup(c.hangup.by, c.hangup.waited, call)
    if c.duration is not None:
        d = c.duration
        long = d.longer_than is not None and call.seconds > d.longer_than
        short = d.shorter_than is not None and call.seconds < d.shorter_than
        return [Hit(call.seconds, None, f"the call lasted {call.seconds:.0f} s")] if long or short else []
    if c.intent is not None:
        wanted = set(c.intent)
        return [
            Hit(t.start, i, f"{t.intent}: {t.text[:60]}")
            for i, t in _turns(call, "callee", "all")
            if t.intent in wanted
        ]
    if c.node is not None:
        n = c.node
        return [
            Hit(t.start, i, f"{t.node}: {t.text[:60]}")
            for i, t in _turns(call, "bot", "all")
            if (not n.any or t.node in n.any) and t.node not in n.other_than and n.cut in (None, t.cut)
        ]
    if c.agent is not None:
        return _agent(c.agent, call.agent, call.seconds)
    if c.after is not None:
        return _after(c.after, call)
    if c.before is not None:
        return _before(c.before, call)
    if c.all is not None:
        each = [hits_of(part, call) for part in c.all]
        return sorted((h for hs in each for h in hs), key=lambda h: h.at) if all(each) else []
    if c.any is not None:
        return sorted((h for part in c.any for h in hits_of(part, call)), key=lambda h: h.at)
    assert c.not_ is not None
    return [] if hits_of(c.not_, call) else [Hit(0.0, None, "not found, as required")]


def _after(s: Seq, call: CallView) -> list[Hit]:
    first = hits_of(s.first, call)
    if not first:
        return []
    start = first[0]
    then = [h for h in hits_of(s.then, call) if h.at > start.at]
    if s.next and start.turn is not None:  # only the next turn of that speaker
        speakers = {call.turns[h.turn].speaker for h in then if h.turn is not None}
        following = [
            i for i, t in enumerate(call.turns) if i > start.turn and (not speakers or t.speaker in speakers)
        ][:1]
        then = [h for h in then if h.turn in following]
    return [start, *then] if len(then) >= s.at_least else []


def _before(s: Seq, call: CallView) -> list[Hit]:
    later = hits_of(s.first, call)
    if not later:
        return []
    earlier = [h for h in hits_of(s.then, call) if h.at < later[0].at]
    return earlier if len(earlier) >= s.at_least else []


def _hangup(by: str, waited: bool | None, call: CallView) -> list[Hit]:
    ended = call.ended_by
    who = {"bot-hangup": "bot", "callee-hangup": "callee", "pbx": "pbx"}.get(ended or "", "abnormal")
    if ended is None or (by != "any" and who != by):
        return []
    if by == "bot" and waited is not None and call.bot_waited != waited:
        return []
    said = " after waiting for the callee" if who == "bot" and call.bot_waited else ""
    return [Hit(call.seconds, None, f"the {who} ended the call ({ended}){said}")]


def _speaks(turn: Turn, speaker: Speaker) -> bool:
    return speaker == "any" or turn.speaker == speaker


def _turns(call: CallView, speaker: Speaker, which: str) -> list[tuple[int, Turn]]:
    chosen = [(i, t) for i, t in enumerate(call.turns) if _speaks(t, speaker)]
    if which == "first":
        return chosen[:1]
    if which == "last":
        return chosen[-1:]
    return chosen


def _text(words: Sequence[str], call: CallView) -> list[str]:
    out = []
    for w in words:
        for name, value in call.variables.items():
            w = w.replace("{" + name + "}", value)
        out.append(w.lower())
    return out


def _keywords(k: Keywords, call: CallView) -> list[Hit]:
    any_, all_, none = _text(k.any, call), _text(k.all, call), _text(k.none, call)

    def holds(text: str) -> bool:
        text = text.lower()
        found = sum(w in text for w in any_)
        return (
            (not any_ or found >= k.at_least)
            and all(w in text for w in all_)
            and not any(w in text for w in none)
        )

    turns = _turns(call, k.speaker, k.turns)
    if k.scope == "call":
        together = " \n ".join(t.text for _, t in turns)
        return [Hit(turns[0][1].start, turns[0][0], together[:80])] if turns and holds(together) else []
    return [Hit(t.start, i, t.text[:80]) for i, t in turns if holds(t.text)]


def _regex(r: Regex, call: CallView) -> list[Hit]:
    pattern = re.compile(_pattern(r.pattern, call), re.IGNORECASE)
    excludes = [re.compile(_pattern(x, call), re.IGNORECASE) for x in r.exclude]
    out = []
    for i, t in _turns(call, r.speaker, r.turns):
        m = pattern.search(t.text)
        if m and not any(x.search(t.text) for x in excludes):
            out.append(Hit(t.start, i, f"{m.group(0)!r} in: {t.text[:60]}"))
    return out


def _pattern(pattern: str, call: CallView) -> str:
    for name, value in call.variables.items():
        pattern = pattern.replace("{" + name + "}", re.escape(value))
    return pattern


def _words(text: str) -> int:
    return len(_CJK.findall(text)) + len(_WORD.findall(text))

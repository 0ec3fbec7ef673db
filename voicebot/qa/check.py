"""``voicebot qa check``: a rubric file's problems, located, and its names checked against the
script beside it (a rule about a node or an intent the script does not have never fires)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from voicebot.dialog.check import Finding
from voicebot.dialog.flow import load_flow
from voicebot.dialog.intents import load_nlu, nlu_files
from voicebot.dialog.yamlfile import load_model
from voicebot.errors import ScriptError
from voicebot.qa.rubric import HINT, RUBRIC_FILE, Condition, Rubric


def check_rubric(path: Path) -> list[Finding]:
    """Every problem of the rubric at ``path`` (its file, or the script directory holding it)."""
    directory, file = (path, path / RUBRIC_FILE) if path.is_dir() else (path.parent, path)
    if not file.exists():
        return [Finding("error", str(file), None, f"no {RUBRIC_FILE}: write one ({HINT})")]
    try:
        rubric, lines = load_model(file, Rubric, hint=HINT)
    except ScriptError as e:
        return [Finding("error", e.file, e.line, e.message.split(": ", 1)[-1])]
    findings: list[Finding] = []
    manual = sum(r.points for r in rubric.rules if r.manual)
    costs = sum(r.points for r in rubric.rules)
    if costs < rubric.total - rubric.pass_mark:
        findings.append(
            Finding(
                "warning",
                str(file),
                lines.get(("total",)),
                f"the rules cost {costs:g} points in all: no call can fall under the pass mark by points",
            )
        )
    if manual >= rubric.total:
        findings.append(
            Finding("warning", str(file), None, "only manual rules: nothing is checked on every call")
        )
    findings += _parts(rubric, lines, str(file))
    if (directory / "flow.yml").exists() and nlu_files(directory):
        try:
            flow, _ = load_flow(directory / "flow.yml")
            nlu = load_nlu(nlu_files(directory))
        except ScriptError as e:
            return [*findings, Finding("error", e.file, e.line, f"the script beside it: {e.message}")]
        prompts = {*flow.nodes, *flow.globals, *flow.exits}
        intents = set(nlu.intents)
        for i, rule in enumerate(rubric.rules):
            line = lines.get(("rules", str(i))) or lines.get(("rules", str(i), "id"))
            for condition in (rule.must, rule.must_not):
                for kind, name in _names(condition):
                    known = prompts if kind == "node" else intents
                    if name not in known:
                        what = "prompt (node, global or exit)" if kind == "node" else "intent"
                        message = f"rule {rule.id!r}: the script has no {what} {name!r}"
                        findings.append(Finding("error", str(file), line, message))
    return sorted(findings, key=lambda f: (f.severity != "error", f.line or 0))


def _parts(rubric: Rubric, lines: dict[tuple[str, ...], int], file: str) -> list[Finding]:
    """The robot's rules read the conversation, the agent part's the hand-off and wrap-up: a rule
    checking the other part's facts would never fire."""
    findings = []
    parts = [("rules", rubric.rules, False)]
    if rubric.agent is not None:
        parts.append(("agent", rubric.agent.rules, True))
        if rubric.agent.agent is not None:
            findings.append(
                Finding("error", file, lines.get(("agent", "agent")), "the agent part has no agent part")
            )
    for where, rules, agent_part in parts:
        for i, rule in enumerate(rules):
            path = ("rules", str(i)) if where == "rules" else ("agent", "rules", str(i))
            kinds = {k for c in (rule.must, rule.must_not) for k in _kinds(c)}
            if agent_part and kinds - {"agent", "all", "any", "not_"}:
                wrong = ", ".join(sorted(k.rstrip("_") for k in kinds - {"agent", "all", "any", "not_"}))
                message = (
                    f"agent rule {rule.id!r} checks {wrong}: the agent part has no transcript (check agent:)"
                )
                findings.append(Finding("error", file, lines.get(path), message))
            if not agent_part and "agent" in kinds:
                message = f"rule {rule.id!r} checks agent: put it in the agent section"
                findings.append(Finding("error", file, lines.get(path), message))
    return findings


def _kinds(c: Condition | None) -> Iterator[str]:
    """The kinds of check a condition uses, nested ones too."""
    if c is None:
        return
    for name in type(c).model_fields:
        if getattr(c, name) is not None:
            yield name
    for seq in (c.after, c.before):
        if seq is not None:
            yield from _kinds(seq.first)
            yield from _kinds(seq.then)
    for part in (*(c.all or ()), *(c.any or ())):
        yield from _kinds(part)
    yield from _kinds(c.not_)


def _names(c: Condition | None) -> Iterator[tuple[str, str]]:
    """The nodes and intents a condition names, nested ones too."""
    if c is None:
        return
    if c.node is not None:
        for name in (*c.node.any, *c.node.other_than):
            yield "node", name
    for name in c.intent or ():
        yield "intent", name
    for seq in (c.after, c.before):
        if seq is not None:
            yield from _names(seq.first)
            yield from _names(seq.then)
    for part in (*(c.all or ()), *(c.any or ())):
        yield from _names(part)
    yield from _names(c.not_)

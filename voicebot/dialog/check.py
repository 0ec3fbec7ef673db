"""``voicebot script check``: everything wrong with a script, each with its file and line. Pure
apart from reading the script's files."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from voicebot.dialog.flow import INBOUND, NO_AGENT, Flow, Say, load_flow
from voicebot.dialog.intents import NluData, load_nlu, nlu_files
from voicebot.errors import ScriptError

#: The opening must say it is an automated call: one of these words.
DISCLOSURE_WORDS = (
    "automated",
    "robot",
    "recorded",
    "virtual assistant",
    "自动",
    "机器人",
    "智能",
    "语音助手",
)
#: False promises and insults, which the robot-call rules forbid. Extend per campaign.
FORBIDDEN_WORDS = (
    "guarantee",
    "guaranteed",
    "risk-free",
    "no risk",
    "free money",
    "stupid",
    "idiot",
    "shut up",
    "保证赚钱",
    "稳赚",
    "零风险",
    "包赚",
    "傻",
    "滚",
    "闭嘴",
)
THIN = 10


@dataclass(frozen=True, slots=True)
class Finding:
    severity: str  # "error" or "warning"
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message}"


def inside(directory: Path, relative: str) -> bool:
    """Whether ``relative`` names a file in ``directory`` (not an absolute path, no way out)."""
    base = directory.resolve()
    return not Path(relative).is_absolute() and (base / relative).resolve().is_relative_to(base)


def check_script(directory: Path, *, forbidden: Iterable[str] = FORBIDDEN_WORDS) -> list[Finding]:
    findings: list[Finding] = []
    flow_file = directory / "flow.yml"
    files = nlu_files(directory)
    if not files:
        findings.append(Finding("error", str(directory), None, "no nlu.yml"))
    if not flow_file.exists():
        findings.append(Finding("error", str(directory), None, "no flow.yml"))
    if findings:
        return findings
    try:
        nlu = load_nlu(files)
        flow, lines = load_flow(flow_file)
    except ScriptError as e:
        return [Finding("error", e.file, e.line, e.message.split(": ", 1)[-1])]
    checker = _Checker(flow, nlu, lines, str(flow_file))
    checker.run(directory, [w.lower() for w in forbidden])
    findings = checker.findings
    findings += [Finding("warning", n.where.file, n.where.line, n.message) for n in nlu.notes]
    return sorted(findings, key=lambda f: (f.severity != "error", f.file, f.line or 0))


class _Checker:
    def __init__(self, flow: Flow, nlu: NluData, lines: dict[tuple[str, ...], int], file: str) -> None:
        self.flow, self.nlu, self.lines, self.file = flow, nlu, lines, file
        self.findings: list[Finding] = []

    def error(self, path: tuple[str, ...], message: str) -> None:
        self.findings.append(Finding("error", self.file, self._line(path), message))

    def warn(self, path: tuple[str, ...], message: str) -> None:
        self.findings.append(Finding("warning", self.file, self._line(path), message))

    def _line(self, path: tuple[str, ...]) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def run(self, directory: Path, forbidden: list[str]) -> None:
        flow, intents = self.flow, set(self.nlu.intents)
        nodes = set(flow.nodes)
        if flow.start not in nodes:
            self.error(("start",), f"start node {flow.start!r} does not exist")
        used: set[str] = set()
        for section in ("globals", "exits"):
            for name, handler in getattr(flow, section).items():
                used.add(name)
                if name not in intents:
                    self.error((section, name), f"{section[:-1]} {name!r} is not an intent in nlu.yml")
                if handler.goto is not None and handler.goto not in nodes:
                    self.error((section, name, "goto"), f"goto {handler.goto!r}: no such node")
                self._say(handler.say, (section, name, "say"), directory, forbidden)
        for name, node in flow.nodes.items():
            base = ("nodes", name)
            self._say(node.say, (*base, "say"), directory, forbidden)
            if not node.say.text and not node.say.recording:
                self.error((*base, "say"), f"node {name!r} says nothing")
            for intent, target in node.next.items():
                used.add(intent)
                if intent not in intents:
                    self.error((*base, "next", intent), f"{intent!r} is not an intent in nlu.yml")
                if target not in nodes:
                    self.error((*base, "next", intent), f"{intent} -> {target!r}: no such node")
            for i, branch in enumerate(node.branches):
                if branch.then not in nodes:
                    self.error((*base, "branches", str(i)), f"branch then {branch.then!r}: no such node")
                if branch.intent is not None and branch.intent not in intents:
                    self.error((*base, "branches", str(i)), f"{branch.intent!r} is not an intent in nlu.yml")
            for kind in ("no_match", "no_input"):
                retry = getattr(node, kind)
                if retry is not None:
                    if retry.then not in nodes:
                        self.error((*base, kind, "then"), f"{kind} then {retry.then!r}: no such node")
                    self._say(retry.say, (*base, kind, "say"), directory, forbidden)
            terminal = node.transfer is not None or node.end is not None
            if not terminal and not node.listen:
                self.error(base, f"dead end: node {name!r} neither listens, transfers nor ends")
            if not terminal and node.listen and not node.next and not node.branches and node.no_match is None:
                self.error(base, f"dead end: node {name!r} listens but no answer leads anywhere")
            if node.listen and not terminal and (node.no_match is None or node.no_input is None):
                missing = [k for k in ("no_match", "no_input") if getattr(node, k) is None]
                self.warn(base, f"node {name!r} has no {' or '.join(missing)} handling (the call ends there)")
        self._reachability()
        self._opening()
        if "opt_out" not in flow.exits or not flow.exits["opt_out"].opt_out:
            self.error(("exits",), "no opt-out path: add exits.opt_out with 'opt_out: true' and an end")
        for name, examples in self.nlu.intents.items():
            if len(examples) < THIN:
                self.findings.append(
                    Finding(
                        "warning",
                        examples[0].where.file,
                        examples[0].where.line,
                        f"intent {name!r} has only {len(examples)} examples (aim for 15+)",
                    )
                )
            if name not in used:
                self.findings.append(
                    Finding(
                        "warning",
                        examples[0].where.file,
                        examples[0].where.line,
                        f"intent {name!r} is never used by the flow",
                    )
                )
        self._overlaps()

    def _say(self, say: Say | None, path: tuple[str, ...], directory: Path, forbidden: list[str]) -> None:
        if say is None:
            return
        if say.recording and not inside(directory, say.recording):
            self.error(path, f"recording {say.recording!r} is outside the script directory")
        elif say.recording and not (directory / say.recording).exists():
            self.error(path, f"recording {say.recording!r} not found in {directory}")
        for text in say.text:
            lowered = text.lower()
            for word in forbidden:
                if re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", lowered):
                    self.error(
                        path, f"forbidden wording {word!r}: false promises and insults are not allowed"
                    )

    def _reachability(self) -> None:
        flow = self.flow
        edges: dict[str, set[str]] = defaultdict(set)
        anywhere = {h.goto for h in (*flow.globals.values(), *flow.exits.values()) if h.goto}
        for name, node in flow.nodes.items():
            edges[name] |= set(node.next.values()) | {b.then for b in node.branches} | anywhere
            edges[name] |= {r.then for r in (node.no_match, node.no_input) if r is not None}
        transfers = [name for name, node in flow.nodes.items() if node.transfer is not None]
        # a callee no agent takes comes back from the queue to NO_AGENT, a callee calling back
        # outside the agents' hours starts at INBOUND: more entries
        seen, todo = set(), [flow.start, INBOUND, *([NO_AGENT] if transfers else [])]
        if transfers and NO_AGENT not in flow.nodes:
            self.warn(
                ("nodes", transfers[0]),
                f"no {NO_AGENT!r} node: a callee no agent takes in time hears a built-in apology "
                f"(add a {NO_AGENT!r} node that apologizes and offers a callback: docs/script-writers.md)",
            )
        while todo:
            name = todo.pop()
            if name in seen or name not in flow.nodes:
                continue
            seen.add(name)
            todo.extend(edges[name])
        for name in flow.nodes:
            if name not in seen:
                self.error(("nodes", name), f"node {name!r} is unreachable from {flow.start!r}")

    def _opening(self) -> None:
        node = self.flow.nodes.get(self.flow.start)
        if node is None:
            return
        for text in node.say.text or ("",):
            lowered = text.lower()
            if self.flow.company.lower() not in lowered:
                self.error(
                    ("nodes", self.flow.start, "say"),
                    f"the opening does not name the company ({self.flow.company!r})",
                )
            if not any(w in lowered for w in DISCLOSURE_WORDS):
                self.error(
                    ("nodes", self.flow.start, "say"), "the opening does not say this is an automated call"
                )
        if node.barge_in:
            self.warn(
                ("nodes", self.flow.start),
                "the opening can be interrupted: set barge_in: false so the disclosure is heard in full",
            )

    def _overlaps(self) -> None:
        owners: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for name, examples in self.nlu.intents.items():
            for e in examples:
                owners[" ".join(e.text.lower().split())].append((name, str(e.where)))
        for text, places in owners.items():
            if len({n for n, _ in places}) > 1:
                first = places[0][1]
                file, _, line = first.rpartition(":")
                self.findings.append(
                    Finding(
                        "warning",
                        file,
                        int(line),
                        f"example {text!r} is in several intents: "
                        + ", ".join(f"{n} ({w})" for n, w in places),
                    )
                )

"""YAML as script writers expect it: only true/false are booleans.

PyYAML follows YAML 1.1, where yes, no, on and off are booleans too: a callee
line ``user: yes`` would become ``True`` and a key ``on:`` would become ``true``.
This loader resolves booleans the YAML 1.2 way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from voicebot.errors import ScriptError

M = TypeVar("M", bound=BaseModel)


class ScriptLoader(yaml.SafeLoader):  # type: ignore[misc]
    """Plain YAML only: no aliases (``*name``: a few hundred bytes of nested aliases expand to
    gigabytes), and no explicit tags but ``!!str`` (``!!timestamp`` and the like build types no
    script expects)."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            problem = f"aliases (*{event.anchor}) are not allowed here: write the value out"
            raise yaml.composer.ComposerError(None, None, problem, event.start_mark)
        tag = getattr(event, "tag", None)
        if tag not in (None, "!", "tag:yaml.org,2002:str"):
            raise yaml.composer.ComposerError(
                None, None, f"explicit tags ({tag}) are not allowed here: remove it", event.start_mark
            )
        return super().compose_node(parent, index)


ScriptLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ScriptLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_model(path: Path, model: type[M], *, hint: str) -> tuple[M, dict[tuple[str, ...], int]]:
    """Read a YAML file into a pydantic model, and the line of every key path.

    Errors name the file, the line of the offending key, what is wrong and ``hint``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ScriptError(f"cannot read: {e.strerror}", file=str(path), hint=hint) from e
    try:
        root = yaml.compose(text, Loader=ScriptLoader)
        data = yaml.load(text, Loader=ScriptLoader)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        raise ScriptError(f"not valid YAML: {e.problem}", file=str(path), line=line) from e
    lines: dict[tuple[str, ...], int] = {}
    if root is not None:
        _index(root, (), lines)
    try:
        return model.model_validate(data or {}), lines
    except ValidationError as e:
        first = e.errors()[0]
        loc = tuple(str(p) for p in first["loc"])
        key = ".".join(loc)
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ScriptError(f"{key}: {message}", file=str(path), line=_nearest(lines, loc), hint=hint) from e


def _index(node: yaml.Node, path: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, str(key.value))
            lines[sub] = key.start_mark.line + 1
            _index(value, sub, lines) if isinstance(value, yaml.MappingNode | yaml.SequenceNode) else None
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, str(i)), lines)


def _nearest(lines: dict[tuple[str, ...], int], loc: tuple[str, ...]) -> int | None:
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())

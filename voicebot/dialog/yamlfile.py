"""YAML as script writers expect it, read safely: every bad file is a located ``ScriptError``.

PyYAML follows YAML 1.1, where yes, no, on and off are booleans too: a callee
line ``user: yes`` would become ``True`` and a key ``on:`` would become ``true``;
and ``2026-99-01`` would be a timestamp that fails to build. This loader resolves
booleans the YAML 1.2 way and leaves dates as text for the models to read.

Files are read with bounds: at most ``MAX_BYTES``, nested at most ``MAX_DEPTH``
deep, no aliases (a few hundred bytes of nested aliases expand to gigabytes) and
no explicit tags. Whatever PyYAML, the codec or the recursion limit raises comes
out as :class:`ScriptError` with the file, the line and a fix.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from voicebot.errors import ScriptError

M = TypeVar("M", bound=BaseModel)

#: The largest script, intent, campaign or test file read (the samples are under 20 KB).
MAX_BYTES = 4 * 1024 * 1024
#: The deepest nesting of mappings and lists (the samples nest 6 deep).
MAX_DEPTH = 40


class ScriptLoader(yaml.SafeLoader):  # type: ignore[misc]
    """Plain YAML only: no aliases, no explicit tags but ``!!str``, nesting bounded."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

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
        if self.depth >= MAX_DEPTH:
            problem = f"nested more than {MAX_DEPTH} levels deep"
            raise yaml.composer.ComposerError(None, None, problem, event.start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


ScriptLoader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ScriptLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_text(path: Path, *, hint: str | None = None) -> str:
    """A file's UTF-8 text, at most ``MAX_BYTES``; an unreadable file is a located error."""
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size  # 0 for a pipe: read up to the bound
            raw = b"" if size > MAX_BYTES else f.read(MAX_BYTES + 1) if size == 0 else f.read()
    except OSError as e:
        raise ScriptError(f"cannot read: {e.strerror}", file=str(path), hint=hint) from e
    if size > MAX_BYTES or len(raw) > MAX_BYTES:
        raise ScriptError(
            f"larger than {MAX_BYTES // (1024 * 1024)} MiB",
            file=str(path),
            hint="split it into several files",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ScriptError(
            f"not UTF-8 text (byte {e.start} is {raw[e.start : e.start + 1]!r})",
            file=str(path),
            line=raw.count(b"\n", 0, e.start) + 1,
            hint="save the file as UTF-8",
        ) from e


def parse(
    text: str, file: str, *, build: bool = True, hint: str | None = None
) -> tuple[yaml.Node | None, Any]:
    """The document's node tree and (with ``build``) its Python value; errors located."""
    hint = hint or "check the indentation and the '- ' before each entry"
    loader: ScriptLoader | None = None
    try:
        loader = ScriptLoader(text)  # checks every character first
        root = loader.get_single_node()
        return root, (loader.construct_document(root) if build and root is not None else None)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise ScriptError(f"not valid YAML: {e.problem or e.context}", file=file, line=line, hint=hint) from e
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1
        raise ScriptError(
            f"character {e.character!r} is not allowed in YAML", file=file, line=line, hint="remove it"
        ) from e
    except yaml.YAMLError as e:
        raise ScriptError(f"not valid YAML: {e}", file=file, hint=hint) from e
    except (ValueError, OverflowError, TypeError, RecursionError) as e:  # a value PyYAML could not build
        raise ScriptError(f"a value cannot be read: {e}", file=file, hint=hint) from e
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml(path: Path, *, hint: str | None = None) -> tuple[yaml.Node | None, Any]:
    """Read and parse one file (see :func:`read_text` and :func:`parse`)."""
    return parse(read_text(path, hint=hint), str(path), hint=hint)


def load_model(path: Path, model: type[M], *, hint: str) -> tuple[M, dict[tuple[str, ...], int]]:
    """Read a YAML file into a pydantic model, and the line of every key path.

    Errors name the file, the line of the offending key, what is wrong and ``hint``.
    """
    root, data = load_yaml(path)
    lines = key_lines(root)
    try:
        return model.model_validate(data or {}), lines
    except ValidationError as e:
        first = e.errors()[0]
        loc = tuple(str(p) for p in first["loc"])
        key = ".".join(loc)
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ScriptError(f"{key}: {message}", file=str(path), line=_nearest(lines, loc), hint=hint) from e
    except (OverflowError, RecursionError) as e:  # a validator's arithmetic on a huge value
        raise ScriptError(f"a value is out of range: {e}", file=str(path), hint=hint) from e


def key_lines(root: yaml.Node | None) -> dict[tuple[str, ...], int]:
    """The line of every key path in a node tree (list items by their index)."""
    lines: dict[tuple[str, ...], int] = {}
    if root is not None:
        _index(root, (), lines)
    return lines


def _index(node: yaml.Node, path: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, str(key.value) if isinstance(key, yaml.ScalarNode) else "?")
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

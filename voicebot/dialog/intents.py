"""Intent files in the Rasa 3.x training-data format, read as Rasa reads them.

Supported: ``version``, ``nlu:`` entries of ``intent`` (with ``examples: |``
and optional ``metadata``), ``synonym``, ``regex`` and ``lookup``; inline
entities ``[text](entity)``, ``[text](entity:value)`` and
``[text]{"entity": ..., "value": ..., "role": ...}``. Anything else (stories,
rules, responses in the same file, unknown keys) is reported with its line,
not silently dropped. Every example keeps the file and line it came from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from voicebot.dialog.yamlfile import parse, read_text
from voicebot.errors import ScriptError

SUPPORTED_VERSIONS = ("2.0", "3.0", "3.1")
_ENTITY = re.compile(
    r"\[(?P<text>[^\]]+)\]"
    r"(?:\((?P<name>[^)]+)\)|(?P<json>\{[^}]*\})|(?P<jsonlist>\[\{.*?\}\]))"
)


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Entity:
    entity: str
    value: str
    start: int
    end: int
    role: str | None = None


@dataclass(frozen=True, slots=True)
class Example:
    text: str  # entity markup removed
    entities: tuple[Entity, ...]
    where: Location


@dataclass(frozen=True, slots=True)
class Note:
    """Something in the files voicebot did not use, or that looks wrong."""

    where: Location
    message: str


@dataclass
class NluData:
    intents: dict[str, list[Example]] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)  # variant (lower case) -> canonical value
    regexes: dict[str, list[tuple[str, Location]]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def merge(self, other: NluData) -> None:
        for name, examples in other.intents.items():
            self.intents.setdefault(name, []).extend(examples)
        self.synonyms.update(other.synonyms)
        for name, patterns in other.regexes.items():
            self.regexes.setdefault(name, []).extend(patterns)
        for name, values in other.lookups.items():
            self.lookups.setdefault(name, []).extend(values)
        self.notes.extend(other.notes)
        self.files.extend(other.files)

    @property
    def entity_values(self) -> dict[str, set[str]]:
        """Every surface text annotated for each entity in the examples (used as a lookup)."""
        values: dict[str, set[str]] = {}
        for examples in self.intents.values():
            for example in examples:
                for e in example.entities:
                    values.setdefault(e.entity, set()).add(example.text[e.start : e.end])
        return values

    @property
    def examples(self) -> int:
        return sum(len(v) for v in self.intents.values())


def nlu_files(directory: Path) -> list[Path]:
    """A script directory's intent files: nlu*.yml, then nlu/*.yml."""
    return sorted(directory.glob("nlu*.yml")) + sorted((directory / "nlu").glob("*.yml"))


def load_nlu(paths: Iterable[Path]) -> NluData:
    data = NluData()
    for path in paths:
        data.merge(parse_nlu(read_text(path), str(path)))
    return data


def parse_nlu(text: str, file: str) -> NluData:
    """Parse one file; a structural error raises :class:`ScriptError` with its line."""
    root, _ = parse(text, file, build=False)
    data = NluData(files=[file])
    if root is None:
        return data
    if not isinstance(root, yaml.MappingNode):
        raise ScriptError("expected a mapping with 'version' and 'nlu'", file=file, line=_line(root))
    for key_node, value_node in root.value:
        key = key_node.value
        if key == "version":
            if str(value_node.value) not in SUPPORTED_VERSIONS:
                data.notes.append(
                    Note(
                        Location(file, _line(key_node)),
                        f"version {value_node.value!r}: written for Rasa {SUPPORTED_VERSIONS}",
                    )
                )
        elif key == "nlu":
            if not isinstance(value_node, yaml.SequenceNode):
                raise ScriptError(
                    "'nlu' must be a list of entries ('- intent: ...')", file=file, line=_line(value_node)
                )
            for entry in value_node.value:
                _entry(entry, file, data)
        else:
            data.notes.append(
                Note(
                    Location(file, _line(key_node)),
                    f"'{key}' is not read by voicebot (only nlu training data is); "
                    "dialogue goes in the flow file",
                )
            )
    return data


def _entry(node: yaml.Node, file: str, data: NluData) -> None:
    if not isinstance(node, yaml.MappingNode):
        raise ScriptError(
            "each nlu entry must be a mapping like '- intent: greet'", file=file, line=_line(node)
        )
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise ScriptError("a key must be a plain word like 'intent'", file=file, line=_line(key))
    fields = {k.value: (k, v) for k, v in node.value}
    kinds = [k for k in ("intent", "synonym", "regex", "lookup") if k in fields]
    if len(kinds) != 1:
        raise ScriptError(
            "an nlu entry needs exactly one of intent, synonym, regex, lookup", file=file, line=_line(node)
        )
    kind = kinds[0]
    if not isinstance(fields[kind][1], yaml.ScalarNode):
        raise ScriptError(f"the {kind} name must be a plain word", file=file, line=_line(fields[kind][1]))
    name = str(fields[kind][1].value).strip()
    if not name:
        raise ScriptError(f"empty {kind} name", file=file, line=_line(fields[kind][0]))
    if "examples" not in fields:
        raise ScriptError(
            f"{kind} {name!r} has no examples",
            file=file,
            line=_line(node),
            hint="add 'examples: |' followed by '- ' lines",
        )
    for extra in set(fields) - {kind, "examples", "metadata"}:
        data.notes.append(
            Note(Location(file, _line(fields[extra][0])), f"'{extra}' in {kind} {name!r} is ignored")
        )
    examples = fields["examples"][1]
    if kind == "intent" and isinstance(examples, yaml.SequenceNode):
        lines = list(_example_entries(examples, file))  # the long form, as Rasa 3 reads it
    else:
        lines = list(_example_lines(examples, file))
    if kind == "intent":
        bucket = data.intents.setdefault(name, [])
        for raw, line in lines:
            if not raw:  # (the long form's ``text: ""``; Rasa trains on it, it teaches nothing)
                data.notes.append(Note(Location(file, line), f"an empty example of {name!r} is skipped"))
                continue
            bucket.append(parse_example(raw, Location(file, line)))
    elif kind == "synonym":
        for raw, _ in lines:
            data.synonyms[raw.lower()] = name
    elif kind == "regex":
        for raw, line in lines:
            try:
                re.compile(raw)
            except (re.error, OverflowError, RecursionError) as e:  # a{4294967296}: OverflowError
                raise ScriptError(f"regex {name!r}: {e}", file=file, line=line) from e
            data.regexes.setdefault(name, []).append((raw, Location(file, line)))
    else:
        data.lookups.setdefault(name, []).extend(raw for raw, _ in lines)


def _example_entries(node: yaml.SequenceNode, file: str) -> Iterable[tuple[str, int]]:
    """Rasa's long form: ``examples:`` a list of ``- text: ...`` entries, each with its own
    ``metadata:`` (read and not used by voicebot's classifier). What Rasa's schema refuses (an
    entry without text, another key) is a located error here too."""
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            raise ScriptError(
                "each example in the list form is a mapping like '- text: hello'", file=file, line=_line(item)
            )
        fields = {k.value: (k, v) for k, v in item.value if isinstance(k, yaml.ScalarNode)}
        for extra in sorted(set(fields) - {"text", "metadata"}):
            raise ScriptError(
                f"'{extra}': an example has only text and metadata", file=file, line=_line(fields[extra][0])
            )
        if "text" not in fields:
            raise ScriptError("an example in the list form needs 'text:'", file=file, line=_line(item))
        text = fields["text"][1]
        if not isinstance(text, yaml.ScalarNode):
            raise ScriptError("an example's text must be plain text", file=file, line=_line(text))
        line = text.start_mark.line + (2 if text.style in ("|", ">") else 1)
        yield str(text.value).strip("\n\r "), line


def _example_lines(node: yaml.Node, file: str) -> Iterable[tuple[str, int]]:
    if not isinstance(node, yaml.ScalarNode):
        raise ScriptError(
            "examples must be a block of '- ' lines after 'examples: |'", file=file, line=_line(node)
        )
    # a literal block's content starts on the line after its '|' indicator
    first = node.start_mark.line + (2 if node.style in ("|", ">") else 1)
    for offset, raw in enumerate(node.value.splitlines()):
        stripped = raw.strip()
        if not stripped:
            continue
        if not stripped.startswith("- "):
            raise ScriptError(
                f"example line must start with '- ': {stripped[:40]!r}", file=file, line=first + offset
            )
        yield stripped[2:].strip(), first + offset


def parse_example(raw: str, where: Location) -> Example:
    """Strip entity markup, keeping each entity's value and position in the plain text."""
    text = []
    entities = []
    pos = 0
    length = 0
    for m in _ENTITY.finditer(raw):
        text.append(raw[pos : m.start()])
        length += m.start() - pos
        surface = m.group("text")
        start, end = length, length + len(surface)
        for name, value, role in _annotations(m, where):
            entities.append(Entity(name, value or surface, start, end, role))
        text.append(surface)
        length = end
        pos = m.end()
    text.append(raw[pos:])
    return Example("".join(text), tuple(entities), where)


def _annotations(m: re.Match[str], where: Location) -> list[tuple[str, str | None, str | None]]:
    if m.group("name"):
        name, _, value = m.group("name").partition(":")
        return [(name.strip(), value.strip() or None, None)]
    raw = m.group("json") or m.group("jsonlist")
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ScriptError(
            f"entity annotation {raw[:60]!r} is not valid JSON: {e.msg}", file=where.file, line=where.line
        ) from e
    except RecursionError as e:
        raise ScriptError("entity annotation nested too deep", file=where.file, line=where.line) from e
    items = parsed if isinstance(parsed, list) else [parsed]
    out = []
    for item in items:
        if not isinstance(item, dict) or "entity" not in item:
            raise ScriptError(
                f'entity annotation {raw!r} needs an "entity" key', file=where.file, line=where.line
            )
        out.append((str(item["entity"]), item.get("value"), item.get("role")))
    return out


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1

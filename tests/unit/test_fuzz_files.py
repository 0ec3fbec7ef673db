"""Fuzzing every file loader (issue 10, section 4): whatever is in the file, only voicebot's own
errors come out (file, line, fix), within a time and a memory bound.

Each case is a real file (a sample script, campaign, lead list, settings file) with a few
mutations drawn by hypothesis: values replaced by hostile ones (aliases, tags, huge numbers,
deep nesting, control characters, broken encodings), lines deleted, inserted, re-indented.
The runs are derandomized so CI replays the same cases; ``CASES`` says how many per loader.
"""

from __future__ import annotations

import io
import os
import resource
import shutil
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicebot.calls.scripted import LoadedScript
from voicebot.campaign.definition import load_campaign
from voicebot.campaign.leads import parse_leads, read_table
from voicebot.config import load_settings
from voicebot.dialog.flow import load_flow
from voicebot.dialog.intents import load_nlu
from voicebot.dialog.stories import run_stories
from voicebot.errors import VoicebotError

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "intents/broadband-en"
#: Cases per loader (the script directory trains a classifier per case: fewer there).
CASES = {"flow": 300, "nlu": 300, "campaign": 300, "tests": 150, "script": 60, "settings": 200}
CASES |= {"csv": 300, "xlsx": 120}
#: The slowest a single case may be, and the most the process's peak memory may grow in a test.
SECONDS = 3.0
PEAK_KIB = 300_000

HOSTILE = [
    "*a",
    "&a x",
    "!!timestamp 2001-01-01",
    "!!python/object/apply:os.system [ls]",
    "2026-99-99",
    "a{4294967296}",
    "(a+)+$",
    "1e9d",
    ".inf",
    "-.nan",
    "99999999999999999999999",
    "-1",
    "[" * 3000,
    "{" * 1000,
    "? [a, b]\n: c",
    "\x00",
    "\x07",
    "\x85",
    "\ufeff",
    "\u2028",
    "%YAML 1.1",
    "---",
    "...",
    "|",
    ">-",
    "- ",
    ": ",
    "'",
    '"',
    "~",
    "[]",
    "{}",
    "\t",
    "\r",
    '[x]{"entity": ' + "[" * 5000 + "}",
    '[x]{"entity": 1}',
    "[x](y)",
    "- intent: x",
    "examples: |",
    "24:00",
    "25:61",
    'x = """',
    "[[a.b]]",
    "a.b.c = 1",
]
#: Invalid byte sequences spliced into the encoded text.
BYTES = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xfe\xff", b"\x00\x00", b"\xe9"]


@st.composite
def mutated(draw: st.DrawFn, original: str) -> bytes:
    lines = original.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 5))):
        piece = draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)))
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["value", "delete", "insert", "splice", "indent"]))
        if op == "value" and ":" in lines[i]:
            lines[i] = f"{lines[i].partition(':')[0]}: {piece}\n"
        elif op == "value" and "=" in lines[i]:
            lines[i] = f"{lines[i].partition('=')[0]}= {piece}\n"
        elif op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "insert":
            lines.insert(i, piece + "\n")
        elif op == "splice":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + piece + lines[i][at:]
        else:
            lines[i] = " " * draw(st.integers(1, 3)) + lines[i]
    raw = "".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from(BYTES)) + raw[at:]
    return raw


def fuzz(name: str, original: str, load: Callable[[Path], object], path: Path, *, named: bool = True) -> None:
    """Run ``load`` on mutations of ``original`` written to ``path``; ``named``: errors name the file
    (lead rows are checked apart from their file: the command names it)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seen = {"project errors": 0, "loaded": 0}

    @settings(
        max_examples=CASES[name],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(content=mutated(original))
    def case(content: bytes) -> None:
        path.write_bytes(content)
        started = time.perf_counter()
        try:
            load(path)
            seen["loaded"] += 1
        except VoicebotError as e:
            seen["project errors"] += 1
            assert not named or path.name in str(e) or "invalid settings" in str(e), str(e)
        took = time.perf_counter() - started
        assert took < SECONDS, f"{took:.1f} s for {content[:200]!r}"

    case()
    print(name, seen)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < PEAK_KIB, f"peak memory grew {grown} KiB"
    assert seen["project errors"] > CASES[name] // 10, seen  # the mutations do reach the checks


@pytest.fixture
def script_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "script"
    shutil.copytree(SCRIPT, directory)
    return directory


def test_flow_files(script_copy: Path) -> None:
    fuzz("flow", (SCRIPT / "flow.yml").read_text(), load_flow, script_copy / "flow.yml")


def test_intent_files(tmp_path: Path) -> None:
    fuzz("nlu", (SCRIPT / "nlu.yml").read_text(), lambda p: load_nlu([p]), tmp_path / "nlu.yml")


def test_campaign_files(tmp_path: Path) -> None:
    original = (ROOT / "docs/examples/demo-campaign.yml").read_text()
    fuzz("campaign", original, load_campaign, tmp_path / "campaign.yml")


def test_conversation_test_files(tmp_path: Path) -> None:
    loaded = LoadedScript.load(SCRIPT, "en-us")
    original = (SCRIPT / "tests.yml").read_text()
    fuzz("tests", original, lambda p: run_stories(loaded, p), tmp_path / "tests.yml")


@pytest.mark.parametrize("file", ["flow.yml", "nlu.yml"])
def test_script_directories(script_copy: Path, file: str) -> None:
    """The whole script as calls load it: flow, intents, the script check and the classifier."""
    original = (SCRIPT / file).read_text()
    fuzz("script", original, lambda p: LoadedScript.load(p.parent, "en-us"), script_copy / file)


def test_settings_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("VOICEBOT_")]:
        monkeypatch.delenv(name)
    readme = (ROOT / "README.md").read_text()
    original = readme.split("```toml\n", 1)[1].split("```", 1)[0]  # the settings example
    load_settings(_written(tmp_path / "example.toml", original))  # which loads as it is
    fuzz("settings", original, load_settings, tmp_path / "voicebot.toml")


def _written(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def read_leads(path: Path) -> object:
    return parse_leads(read_table(path))


def test_csv_lead_files(tmp_path: Path) -> None:
    original = (ROOT / "docs/examples/demo-leads.csv").read_text()
    original += "张三,+86 138 0013 8000,官网表单,2026/11/01\n"
    fuzz("csv", original, read_leads, tmp_path / "leads.csv", named=False)


def test_xlsx_lead_files(tmp_path: Path) -> None:
    """The sheet's XML is mutated inside an otherwise valid workbook."""
    book = openpyxl.Workbook()
    for row in (["phone", "name", "consent"], ["13800138000", "Li", "web"], ["+8613900139000", "王", "web"]):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as source:
        parts = {item.filename: source.read(item.filename) for item in source.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    xml = parts[sheet].decode().replace("><", ">\n<")  # one element per line for the mutations
    path = tmp_path / "leads.xlsx"

    def load(written: Path) -> object:
        mutated_sheet = written.read_bytes()
        with zipfile.ZipFile(written, "w") as out:
            for name, data in parts.items():
                out.writestr(name, mutated_sheet if name == sheet else data)
        return read_leads(written)

    fuzz("xlsx", xml, load, path, named=False)

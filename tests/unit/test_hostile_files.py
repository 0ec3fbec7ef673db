"""Hostile script and campaign files (issue 10, section 4, first part): refused with the file
and the line, quickly, never a traceback or gigabytes."""

from __future__ import annotations

import io
import re
import resource
import shutil
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from voicebot.calls.scripted import LoadedScript
from voicebot.campaign.callbacks import parse_callback
from voicebot.campaign.definition import load_campaign
from voicebot.campaign.leads import read_table
from voicebot.config import load_settings
from voicebot.dialog.flow import load_flow
from voicebot.dialog.intents import load_nlu
from voicebot.dialog.stories import run_stories
from voicebot.errors import ConfigError, LeadFileError, ScriptError

ROOT = Path(__file__).resolve().parents[2]
#: Nine levels of nine aliases each: ~400 bytes that expanded to gigabytes before aliases were refused.
LAUGHS = 'l0: &a0 ["lol"]\n' + "".join(f"l{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9))


def test_nested_aliases_are_refused_at_once(tmp_path):
    path = tmp_path / "flow.yml"
    path.write_text(LAUGHS + "script: x\ncompany: y\nstart: a\nnodes:\n  a: {say: hi, phrases: *a8}\n")
    started, peak = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ScriptError) as err:
        load_flow(path)
    assert time.perf_counter() - started < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 50_000  # KiB
    assert err.value.line == 2 and "aliases (*a0) are not allowed" in str(err.value)


@pytest.mark.parametrize("tag", ["!!timestamp 2001-12-14", "!!python/object:os.system x", "!!binary aGk="])
def test_explicit_tags_are_refused(tmp_path, tag):
    path = tmp_path / "c.yml"
    path.write_text(f"id: c\nends_on: {tag}\n")
    with pytest.raises(ScriptError) as err:
        load_campaign(path)
    assert err.value.line == 2 and "explicit tags" in str(err.value)


def copy_script(tmp_path: Path) -> Path:
    directory = tmp_path / "script"
    shutil.copytree(ROOT / "intents/broadband-en", directory)
    return directory


def test_a_script_that_fails_its_check_is_not_loaded_for_calls(tmp_path):
    """Before: a flow whose next named a missing node loaded, then raised KeyError mid-call."""
    directory = copy_script(tmp_path)
    flow = directory / "flow.yml"
    text = flow.read_text()
    target = "goto: transfer" if "goto: transfer" in text else None
    assert target, "the sample flow hands ask_human to the transfer node"
    flow.write_text(text.replace(target, "goto: no_such_node", 1))
    with pytest.raises(ScriptError) as err:
        LoadedScript.load(directory, "en-us")
    line = next(i for i, t in enumerate(flow.read_text().splitlines(), 1) if "no_such_node" in t)
    assert err.value.line == line and "no such node" in str(err.value)
    assert "voicebot script check" in str(err.value)


def test_a_recording_outside_the_script_directory_is_refused(tmp_path):
    directory = copy_script(tmp_path)
    flow = directory / "flow.yml"
    (tmp_path / "secret.wav").write_bytes(b"RIFF")
    text = flow.read_text()
    first_say = next(t for t in text.splitlines() if t.strip().startswith("say:"))
    outside = first_say.split("say:")[0] + "say: {recording: ../secret.wav}"
    flow.write_text(text.replace(first_say, outside, 1))
    with pytest.raises(ScriptError, match="outside the script directory"):
        LoadedScript.load(directory, "en-us")


# Each input below raised a library error (a traceback) before; now it is a located ScriptError.
FLOW_HEAD = "script: x\ncompany: y\nstart: a\n"


@pytest.mark.parametrize(
    ("name", "content", "line", "message"),
    [
        ("control character", FLOW_HEAD + 'nodes:\n  a: {say: "hi\x07"}\n', 5, "is not allowed in YAML"),
        ("not UTF-8", (FLOW_HEAD + "nodes:\n  a: {say: caf\xe9}\n").encode("latin-1"), 5, "not UTF-8 text"),
        ("a list as a key", FLOW_HEAD + "? [a, b]\n: c\n", 4, "not valid YAML"),
        ("deep nesting", FLOW_HEAD + "nodes: " + "[" * 5000 + "]" * 5000 + "\n", 4, "nested more than"),
    ],
)
def test_bad_flow_files_are_located_errors(tmp_path, name, content, line, message):
    path = tmp_path / "flow.yml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ScriptError) as err:
        load_flow(path)
    assert message in str(err.value), name
    if line:
        assert err.value.line == line, name


def test_dates_are_text_until_a_model_reads_them(tmp_path):
    """``2026-99-99`` was an implicit YAML timestamp: ValueError while loading."""
    path = tmp_path / "flow.yml"
    path.write_text(FLOW_HEAD + "nodes:\n  a: {say: 2026-99-99}\n")
    flow, _ = load_flow(path)
    assert flow.nodes["a"].say.text == ("2026-99-99",)
    campaign = tmp_path / "c.yml"
    campaign.write_text("id: c\nends_on: 2026-12-31\n")
    assert str(load_campaign(campaign).ends_on) == "2026-12-31"
    campaign.write_text("id: c\nends_on: 2026-99-31\n")
    with pytest.raises(ScriptError, match="ends_on") as err:
        load_campaign(campaign)
    assert err.value.line == 2


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ('    - [x]{"entity": ' + "[" * 100_000 + "}\n", "nested too deep"),
        ("    - x\n", "regex 'r': the repetition number is too large"),
    ],
)
def test_bad_intent_files_are_located_errors(tmp_path, examples, message):
    regex = "- regex: r\n  examples: |\n    - a{4294967296}\n" if "regex" in message else ""
    text = f"nlu:\n- intent: i\n  examples: |\n{examples}{regex}"
    path = tmp_path / "nlu.yml"
    path.write_text(text)
    with pytest.raises(ScriptError, match=message) as err:
        load_nlu([path])
    assert err.value.line in (4, 7)


def test_a_key_that_is_a_list_in_an_intent_file(tmp_path):
    path = tmp_path / "nlu.yml"
    path.write_text("nlu:\n- ? [intent]\n  : x\n")
    with pytest.raises(ScriptError, match="plain word") as err:
        load_nlu([path])
    assert err.value.line == 2


@pytest.mark.parametrize("value", ["1e9d", ".inf", "99999999999d", "-5m", ".nan", "1000000000000"])
def test_durations_out_of_range(tmp_path, value):
    path = tmp_path / "c.yml"
    path.write_text(f"id: c\nretry:\n  busy: {value}\n")
    with pytest.raises(ScriptError) as err:
        load_campaign(path)
    assert err.value.line == 3 and "retry.busy" in str(err.value)


def test_a_conversation_test_with_a_bad_step(tmp_path):
    loaded = LoadedScript.load(ROOT / "intents/broadband-en", "en-us")
    path = tmp_path / "tests.yml"
    path.write_text("tests:\n- name: t\n  steps:\n  - bot: opening\n  - {bot: x, user: y}\n  - [1, 2]\n")
    with pytest.raises(ScriptError) as err:
        run_stories(loaded, path)
    assert err.value.line == 5 and "a step is 'bot: PROMPT' or 'user: TEXT'" in str(err.value)


def test_a_settings_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "voicebot.toml"
    path.write_bytes(b'[ami]\nhost = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(path)


def test_a_callee_asking_for_a_callback_in_a_billion_days():
    """Speech is input too: "in 99999999999 days" overflowed a timedelta mid-call."""
    now = datetime(2026, 12, 2, 10, tzinfo=UTC)
    assert parse_callback("call me in 99999999999999999999 days", now) is None
    assert parse_callback("9999999999999999天后再打", now) is None
    assert parse_callback("in 3 days", now) == now + timedelta(days=3)


def xlsx(path: Path, patch) -> Path:
    book = openpyxl.Workbook()
    book.active.append(["phone", "name"])
    book.active.append(["13800138000", "Li"])
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            out.writestr(item, patch(data) if item.filename == "xl/worksheets/sheet1.xml" else data)
    return path


FAR = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'


@pytest.mark.parametrize(
    "patch",
    [
        lambda d: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', d),
        lambda d: d.replace(b"</sheetData>", FAR),
    ],
    ids=["declared size", "one far cell"],
)
def test_a_spreadsheet_is_read_by_the_rows_present(tmp_path, patch):
    """A 4.9 KB workbook declaring A1:XFD1048576 took ~15 CPU minutes to read."""
    path = xlsx(tmp_path / "leads.xlsx", patch)
    assert path.stat().st_size < 6000
    started, peak = time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = read_table(path)
    assert time.process_time() - started < 10
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 100_000  # KiB
    assert rows[:2] == [(1, ["phone", "name"]), (2, ["13800138000", "Li"])]


def test_a_broken_sheet_is_a_lead_file_error(tmp_path):
    """The row loop was outside the try: a bad sheet XML raised ParseError."""
    path = xlsx(tmp_path / "leads.xlsx", lambda d: d.replace(b"</sheetData>", b"<row><c></sheetData>"))
    with pytest.raises(LeadFileError, match="the sheet cannot be read"):
        read_table(path)

"""Hostile script and campaign files (issue 10, section 4, first part): refused with the file
and the line, quickly, never a traceback or gigabytes."""

from __future__ import annotations

import resource
import shutil
import time
from pathlib import Path

import pytest

from voicebot.calls.scripted import LoadedScript
from voicebot.campaign.definition import load_campaign
from voicebot.dialog.flow import load_flow
from voicebot.errors import ScriptError

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

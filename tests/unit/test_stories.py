"""Conversation tests (`voicebot script test`) on the shipped samples, and how failures read."""

import subprocess
import sys
from pathlib import Path

import pytest

from voicebot.calls.scripted import LoadedScript
from voicebot.dialog.check import check_script
from voicebot.dialog.stories import run_stories

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["broadband-en", "broadband-zh"])
def sample(request):
    directory = ROOT / "intents" / request.param
    return directory, LoadedScript.load(directory, "en-us")


def test_sample_conversations_pass_and_cover_every_node(sample):
    directory, loaded = sample
    results = run_stories(loaded, directory / "tests.yml")
    assert [r.failures for r in results if not r.passed] == []
    covered = {node for r in results for node in r.path}
    assert covered == set(loaded.flow.nodes)


def test_sample_scripts_check_clean(sample):
    directory, _ = sample
    assert [str(f) for f in check_script(directory)] == []


def test_failures_name_the_step(tmp_path):
    loaded = LoadedScript.load(ROOT / "intents/broadband-en", "en-us")
    stories = tmp_path / "tests.yml"
    stories.write_text(
        "tests:\n"
        "- name: wrong expectations\n"
        "  steps:\n"
        "  - bot: offer\n"
        "  - user: yes\n"  # YAML 1.1 would read this as True; script files read it as the word
        "    intent: deny\n"
        "  end: completed\n"
        "  grade: A\n"
    )
    (result,) = run_stories(loaded, stories)
    assert result.line == 2 and not result.passed
    assert result.failures[0] == "step 1: expected the bot to say 'offer', it said 'opening'"
    assert result.failures[1].startswith("step 2: 'yes' understood as 'affirm'")
    assert result.failures[2] == "ended not at all, expected 'completed'"


def test_cli_exit_status(tmp_path):
    ok = subprocess.run(
        [sys.executable, "-m", "voicebot", "script", "test", str(ROOT / "intents/broadband-en")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0 and "13 passed, 0 failed" in ok.stdout and "nodes covered: 14/14" in ok.stdout
    broken = tmp_path / "s"
    broken.mkdir()
    for name in ("nlu.yml", "flow.yml"):
        (broken / name).write_text((ROOT / "intents/broadband-en" / name).read_text())
    (broken / "tests.yml").write_text("tests:\n- name: x\n  steps:\n  - bot: goodbye\n")
    out = subprocess.run(
        [sys.executable, "-m", "voicebot", "script", "test", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1 and "FAIL  x" in out.stdout

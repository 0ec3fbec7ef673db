"""`voicebot script check`: the shipped samples are clean; each defect is found with its line."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from voicebot.dialog.check import check_script

ROOT = Path(__file__).resolve().parents[2]
NLU = ROOT / "intents/broadband-en/nlu.yml"

FLOW = """script: t
company: Acme Broadband
start: opening
globals:
  ask_identity: {say: "It's Acme."}
exits:
  opt_out: {say: "Sorry, goodbye.", opt_out: true, end: opted_out}
nodes:
  opening:
    say: "Hello, this is an automated call from Acme Broadband. Interested?"
    barge_in: false
    next: {interested: offer, not_interested: goodbye}
    no_match: {then: goodbye}
    no_input: {then: goodbye}
  offer:
    say: "Great offer."
    next: {affirm: goodbye}
    no_match: {then: goodbye}
    no_input: {then: goodbye}
  goodbye:
    say: "Goodbye."
    end: completed
"""


def script_dir(tmp_path: Path, flow: str) -> Path:
    d = tmp_path / "s"
    d.mkdir()
    shutil.copy(NLU, d / "nlu.yml")
    (d / "flow.yml").write_text(flow)
    return d


def errors(findings):
    return [(f.line, f.message) for f in findings if f.severity == "error"]


@pytest.mark.parametrize("sample", ["broadband-en"])
def test_samples_are_clean(sample):
    assert errors(check_script(ROOT / "intents" / sample)) == []


def test_a_clean_small_script(tmp_path):
    assert errors(check_script(script_dir(tmp_path, FLOW))) == []


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("next: {affirm: goodbye}", "next: {affirm: nowhere}", 17, "affirm -> 'nowhere': no such node"),
        ("next: {affirm: goodbye}", "next: {agree: goodbye}", 17, "'agree' is not an intent"),
        ("from Acme Broadband. Interested", "from us. Interested", 10, "does not name the company"),
        ("an automated call from", "a call from", 10, "does not say this is an automated call"),
        (
            'say: "Great offer."',
            'say: "Guaranteed returns, risk-free!"',
            16,
            "forbidden wording 'guaranteed'",
        ),
        ("opt_out: true, end: opted_out", "end: opted_out", 6, "no opt-out path"),
        (
            "next: {interested: offer, not_interested: goodbye}",
            "next: {not_interested: goodbye}",
            15,
            "node 'offer' is unreachable",
        ),
        (
            '    say: "Goodbye."\n    end: completed\n',
            '    say: "Goodbye."\n    listen: false\n',
            20,
            "dead end: node 'goodbye'",
        ),
        ('say: "Great offer."', "say: {recording: offer.wav}", 16, "recording 'offer.wav' not found"),
        ("  ask_identity:", "  who_are_you:", 5, "global 'who_are_you' is not an intent"),
    ],
)
def test_each_defect_is_found_with_its_line(tmp_path, old, new, line, message):
    assert old in FLOW
    found = errors(check_script(script_dir(tmp_path, FLOW.replace(old, new))))
    assert any(ln == line and message in msg for ln, msg in found), found


def test_schema_errors_have_lines(tmp_path):
    found = check_script(script_dir(tmp_path, FLOW.replace("barge_in: false", "barge_inn: false")))
    assert errors(found) == [(11, "nodes.opening.barge_inn: unknown key")]


def test_thin_and_overlapping_intents_warn(tmp_path):
    d = script_dir(tmp_path, FLOW)
    (d / "nlu.yml").write_text(
        NLU.read_text() + "- intent: wrong_person\n  examples: |\n    - wrong number\n    - yes please\n"
    )
    messages = [f.message for f in check_script(d) if f.severity == "warning"]
    assert any("'wrong_person' has only 2 examples" in m for m in messages)
    assert any("example 'yes please' is in several intents" in m for m in messages)
    assert any("'wrong_person' is never used" in m for m in messages)


def test_cli_exit_status(tmp_path):
    good = subprocess.run(
        [sys.executable, "-m", "voicebot", "script", "check", str(ROOT / "intents/broadband-en")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert good.returncode == 0 and "0 error(s)" in good.stdout
    bad = script_dir(tmp_path, FLOW.replace("next: {affirm: goodbye}", "next: {affirm: nowhere}"))
    out = subprocess.run(
        [sys.executable, "-m", "voicebot", "script", "check", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert f"{bad / 'flow.yml'}:17: error: affirm -> 'nowhere': no such node" in out.stdout


def test_chat_follows_the_script():
    out = subprocess.run(
        [sys.executable, "-m", "voicebot", "chat", str(ROOT / "intents/broadband-en")],
        input="yes I am interested\nyes please\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "intent interested" in out.stdout and "node offer" in out.stdout
    assert "end: transferred; path opening > offer > transfer" in out.stdout

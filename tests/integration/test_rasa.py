"""Rasa 3.6 as the NLU backend: export the English sample, train it with real Rasa (Python 3.10,
scripts/rasa.sh), serve it, and drive the sample's conversations through it."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from voicebot.calls.scripted import LoadedScript
from voicebot.dialog.rasa import RasaClassifier, export_rasa
from voicebot.dialog.stories import run_stories

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "intents/broadband-en"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rasa(*args: str, timeout: float) -> None:
    out = subprocess.run(
        [str(ROOT / "scripts/rasa.sh"), *args], capture_output=True, text=True, timeout=timeout
    )
    if out.returncode != 0:
        pytest.fail(f"scripts/rasa.sh {' '.join(args)} failed:\n{out.stderr[-3000:]}", pytrace=False)


@pytest.fixture(scope="module")
def rasa_url(tmp_path_factory):
    project = tmp_path_factory.mktemp("rasa-project")
    models = project / "models"
    loaded = LoadedScript.load(SCRIPT, "en-us")
    export_rasa(loaded.nlu, project, language=loaded.flow.language)
    rasa("install", timeout=900)
    rasa("train", str(project), str(models), timeout=900)
    (model,) = models.glob("*.tar.gz")
    port = free_port()
    server = subprocess.Popen(
        [str(ROOT / "scripts/rasa.sh"), "serve", str(model), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while True:
        try:
            with urllib.request.urlopen(f"{url}/status", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(
                f"rasa server did not start:\n{(server.stderr.read() if server.stderr else '')[-3000:]}",
                pytrace=False,
            )
        time.sleep(1)
    yield url
    server.terminate()
    server.wait(30)


def test_rasa_classifies_the_sample_intents(rasa_url):
    rasa_nlu = RasaClassifier(rasa_url)
    for text, intent in [
        ("yes I'm interested, tell me more", "interested"),
        ("I'm not interested", "not_interested"),
        ("how much does it cost", "ask_price"),
        ("stop calling me", "opt_out"),
    ]:
        prediction = rasa_nlu.predict(text)
        assert prediction.intent == intent, (text, prediction)
        assert prediction.source == "rasa" and prediction.ranking


def test_sample_conversations_through_rasa(rasa_url):
    loaded = LoadedScript.load(SCRIPT, "en-us", rasa_url=rasa_url)
    results = run_stories(loaded, SCRIPT / "tests.yml")
    assert [(r.name, r.failures) for r in results if not r.passed] == []

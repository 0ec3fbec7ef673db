"""Intent classification figures; prints, asserts nothing.

    .venv/bin/python bench/nlu.py

- classification latency (p50, p95) of the built-in classifier on the shipped samples;
- training time for a 1,000-example script (the samples' examples, each also written with a
  few words of filler, so the vocabulary grows as a real script's would);
- 5-fold cross-validated accuracy of both samples (no-match counts as wrong).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from figures import percentile

from voicebot.dialog.classifier import IntentClassifier
from voicebot.dialog.evaluation import cross_validate
from voicebot.dialog.intents import Example, NluData, load_nlu

ROOT = Path(__file__).resolve().parents[1]
FILLER = {
    "en": ["well", "um", "so", "actually", "look", "okay", "right", "you know", "honestly", "listen"],
    "zh": ["那个", "嗯", "就是", "其实", "哎", "好吧", "这样", "我说", "那", "呃"],
}


def grown(nlu: NluData, lang: str, size: int) -> NluData:
    rng = random.Random(0)
    out = NluData()
    pool = [(name, e) for name, examples in nlu.intents.items() for e in examples]
    while out.examples < size:
        name, e = pool[out.examples % len(pool)]
        words = rng.sample(FILLER[lang], 2)
        text = e.text if out.examples < len(pool) else f"{words[0]} {e.text} {words[1]}"
        out.intents.setdefault(name, []).append(Example(text, (), e.where))
    return out


def main() -> None:
    for lang in ("en", "zh"):
        nlu = load_nlu([ROOT / "intents" / f"broadband-{lang}" / "nlu.yml"])
        start = time.perf_counter()
        model = IntentClassifier.train(nlu)
        train_small = time.perf_counter() - start
        # examples with a filler word: not word for word, so the model (not the exact-example table) answers
        texts = [
            f"{FILLER[lang][i % 10]} {e.text}"
            for i, e in enumerate(e for examples in nlu.intents.values() for e in examples)
        ]
        for t in texts[:20]:
            model.predict(t)
        times = []
        for t in texts:
            start = time.perf_counter()
            model.predict(t)
            times.append((time.perf_counter() - start) * 1000)
        big = grown(nlu, lang, 1000)
        start = time.perf_counter()
        IntentClassifier.train(big)
        train_big = time.perf_counter() - start
        result = cross_validate(nlu, folds=5)
        print(
            f"broadband-{lang}: {nlu.examples} examples, {len(nlu.intents)} intents: "
            f"train {train_small:.2f} s; "
            f"classify p50 {percentile(times, 50):.2f} ms, p95 {percentile(times, 95):.2f} ms; "
            f"{big.examples}-example script trains in {train_big:.2f} s; "
            f"5-fold accuracy {result.accuracy:.3f}"
        )


if __name__ == "__main__":
    main()

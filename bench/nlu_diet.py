"""voicebot's built-in classifier against Rasa 3.6 DIET, side by side on the same splits; prints,
asserts nothing.

    .venv/bin/python bench/nlu_diet.py [--no-diet] [--sets sample,ha] [--splits 3]

Two kinds of data, each trained and tested the same way for both classifiers:

- **sample**: the shipped scripts' `nlu.yml` (all examples, and 12 per intent drawn 3 ways),
  tested on `bench/heldout/{en,zh}.yml` (callee utterances written apart from the scripts);
- **ha**: Home Assistant's public intent grammars (`home-assistant-intents`, expanded with
  `hassil`), the 18 intents with the most sentences in both English and Chinese, 12 and 40
  training sentences per intent as a script writer would write them, 25 unseen test
  sentences per intent, 3 splits.

For each: accuracy, no-match rate and wrong-answer rate at each classifier's own threshold
(0.4 both), polarity flips (sample only), and voicebot's accuracy where its wrong-answer rate
equals DIET's (the threshold that gets there). DIET's predictions are kept in
`bench/.diet-cache/` by the hash of the split (training a DIET model takes ~90 s on 2 cores).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from voicebot.dialog.classifier import IntentClassifier
from voicebot.dialog.evaluation import NO_MATCH, POLARITY
from voicebot.dialog.intents import Example, NluData, load_nlu
from voicebot.dialog.rasa import export_rasa

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".diet-cache"
THRESHOLD = 0.4
TIMED_PASSES = 5
HA_INTENTS = (
    "HassGetState", "HassSetVolumeRelative", "HassTurnOn", "HassTurnOff", "HassDecreaseTimer",
    "HassIncreaseTimer", "HassLightSet", "HassStartTimer", "HassSetVolume", "HassTimerStatus",
    "HassUnpauseTimer", "HassCancelTimer", "HassPauseTimer", "HassFanSetSpeed",
    "HassClimateGetTemperature", "HassSetPosition", "HassMediaPause", "HassMediaUnpause",
)  # fmt: skip
#: Home Assistant fills these lists from the house; a small house for the grammars.
HOUSE = {
    "en": {
        "name": ["kitchen light", "ceiling fan", "garage door", "desk lamp", "porch light", "heater"],
        "area": ["kitchen", "living room", "bedroom", "office", "garage", "hallway"],
        "floor": ["upstairs", "downstairs", "first floor"],
    },
    "zh": {
        "name": ["厨房灯", "吊扇", "车库门", "台灯", "门廊灯", "暖气"],
        "area": ["厨房", "客厅", "卧室", "书房", "车库", "走廊"],
        "floor": ["楼上", "楼下", "一楼"],
    },
}
HA_LANGUAGE = {"en": "en", "zh": "zh-CN"}
RASA_PARSE = """
import asyncio, json, sys, logging
logging.disable(logging.WARNING)
from rasa.core.agent import Agent

async def main():
    agent = Agent.load(sys.argv[1])
    out = []
    for text in json.load(open(sys.argv[2])):
        parsed = await agent.parse_message(text)
        ranking = [[r["name"], r["confidence"]] for r in parsed.get("intent_ranking", [])[:5]]
        out.append(ranking)
    json.dump(out, open(sys.argv[3], "w"))

asyncio.run(main())
"""


@dataclass(frozen=True, slots=True)
class Split:
    name: str
    language: str
    train: dict[str, list[str]]
    test: list[tuple[str, str]]  # (text, intent)

    def key(self) -> str:
        blob = json.dumps([self.language, self.train, self.test], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Score:
    accuracy: float
    no_match: float
    wrong: float
    flips: int

    def __str__(self) -> str:
        return (
            f"{self.accuracy:6.1%} acc  {self.no_match:5.1%} no match  {self.wrong:5.1%} wrong"
            f"  {self.flips} flips"
        )


Ranked = list[tuple[str, float]]


def score(split: Split, ranked: list[Ranked], threshold: float = THRESHOLD) -> Score:
    right = no_match = wrong = flips = 0
    for (_text, truth), ranking in zip(split.test, ranked, strict=True):
        best, confidence = ranking[0] if ranking else (NO_MATCH, 0.0)
        said = best if confidence >= threshold else NO_MATCH
        if said == truth:
            right += 1
        elif said == NO_MATCH:
            no_match += 1
        else:
            wrong += 1
            flips += frozenset((said, truth)) in POLARITY
    n = len(split.test)
    return Score(right / n, no_match / n, wrong / n, flips)


def at_wrong_rate(split: Split, ranked: list[Ranked], wrong: float) -> tuple[float, Score]:
    """The lowest threshold whose wrong-answer rate is at most ``wrong``, and the score there."""
    for step in range(0, 100):
        threshold = step / 100
        result = score(split, ranked, threshold)
        if result.wrong <= wrong + 1e-9:
            return threshold, result
    return 1.0, score(split, ranked, 1.0)


def at_accuracy(split: Split, ranked: list[Ranked], accuracy: float) -> tuple[float, Score] | None:
    """The highest threshold whose accuracy is still at least ``accuracy`` (so the fewest wrong
    answers at that accuracy), and the score there; None if no threshold reaches it."""
    for step in range(99, -1, -1):
        threshold = step / 100
        result = score(split, ranked, threshold)
        if result.accuracy >= accuracy - 1e-9:
            return threshold, result
    return None


# -- the data --------------------------------------------------------------------------------
def per_intent(nlu: NluData) -> dict[str, list[str]]:
    return {name: [e.text for e in examples] for name, examples in nlu.intents.items()}


def drawn(train: dict[str, list[str]], n: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    return {name: rng.sample(texts, min(n, len(texts))) for name, texts in train.items()}


def sample_splits(splits: int) -> Iterator[Split]:
    for language in ("en", "zh"):
        train = per_intent(load_nlu([ROOT / "intents" / f"broadband-{language}" / "nlu.yml"]))
        heldout = load_nlu([ROOT / "bench" / "heldout" / f"{language}.yml"])
        test = [(e.text, name) for name, examples in heldout.intents.items() for e in examples]
        yield Split(f"sample-{language} all", language, train, test)
        for seed in range(splits):
            yield Split(f"sample-{language} 12/intent #{seed}", language, drawn(train, 12, seed), test)


def ha_sentences(language: str, per_template: int = 40) -> dict[str, list[str]]:
    """Each intent's sentences: up to ``per_template`` from each of its templates, so every way
    of saying it is there, not the first template's thousand expansions."""
    from hassil import Intents
    from hassil.expression import TextChunk
    from hassil.intents import TextSlotList, TextSlotValue
    from hassil.sample import sample_sentence
    from home_assistant_intents import get_intents

    intents = Intents.from_dict(get_intents(HA_LANGUAGE[language]))
    lists = dict(intents.slot_lists)
    for name, values in HOUSE[language].items():
        lists[name] = TextSlotList(name, [TextSlotValue(TextChunk(v), v) for v in values])
    out: dict[str, list[str]] = {}
    for name in HA_INTENTS:
        seen: dict[str, None] = {}
        for data in intents.intents[name].data:
            rules = {**intents.expansion_rules, **data.expansion_rules}
            for template in data.sentences:
                if any(n in data.wildcard_list_names for n in template.list_names(rules)):
                    continue
                try:
                    texts = sample_sentence(template, lists, rules, language=HA_LANGUAGE[language])
                    for i, text in enumerate(texts):
                        if i >= per_template:
                            break
                        seen[" ".join(text.split())] = None
                except Exception:  # a template needing a list this house lacks
                    continue
        out[name] = list(seen)
    return out


def ha_splits(splits: int) -> Iterator[Split]:
    for language in ("en", "zh"):
        pool = ha_sentences(language)
        for seed in range(splits):
            rng = random.Random(seed)
            shuffled = {name: rng.sample(texts, len(texts)) for name, texts in pool.items()}
            test = [(t, name) for name, texts in shuffled.items() for t in texts[:25]]
            for n in (12, 40):
                train = {name: texts[25 : 25 + n] for name, texts in shuffled.items()}
                yield Split(f"ha-{language} {n}/intent #{seed}", language, train, test)


# -- the classifiers -------------------------------------------------------------------------
def as_nlu(train: dict[str, list[str]]) -> NluData:
    nlu = NluData()
    for name, texts in train.items():
        nlu.intents[name] = [Example(t, (), None) for t in texts]
    return nlu


def voicebot(split: Split) -> tuple[list[Ranked], float]:
    model = IntentClassifier.train(as_nlu(split.train), threshold=0.0)
    ranked: list[Ranked] = []
    timings = []
    for text, _ in split.test:
        p = model.predict(text)
        if p.intent is None and p.ranking:  # below no threshold: the negation guard said no match
            ranked.append([(NO_MATCH, 1.0), *p.ranking])
        else:
            ranked.append(list(p.ranking) or [(NO_MATCH, 0.0)])
    for _ in range(TIMED_PASSES):  # timed apart, several times: a p95 of ~100 calls is noise
        for text, _ in split.test:
            start = time.perf_counter()
            model.predict(text)
            timings.append(time.perf_counter() - start)
    timings.sort()
    return ranked, timings[int(0.95 * (len(timings) - 1))]


def diet(split: Split) -> list[Ranked]:
    CACHE.mkdir(exist_ok=True)
    cached = CACHE / f"{split.key()}.json"
    if cached.exists():
        return [[(n, c) for n, c in r] for r in json.loads(cached.read_text())]
    rasa_python = subprocess.run(
        [ROOT / "scripts/rasa.sh", "python"], capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        data = Path(tmp) / "nlu.yml"
        rows = [
            {"intent": name, "examples": "".join(f"- {_plain(t)}\n" for t in texts)}
            for name, texts in split.train.items()
        ]
        data.write_text(yaml.safe_dump({"version": "3.1", "nlu": rows}, allow_unicode=True))
        nlu = load_nlu([data])
        export_rasa(nlu, project, language=split.language)
        out = Path(tmp) / "model"
        subprocess.run([ROOT / "scripts/rasa.sh", "train", project, out], check=True, capture_output=True)
        model = next(out.glob("*.tar.gz"))
        texts, result = Path(tmp) / "texts.json", Path(tmp) / "ranked.json"
        texts.write_text(json.dumps([t for t, _ in split.test], ensure_ascii=False))
        script = Path(tmp) / "parse.py"
        script.write_text(RASA_PARSE)
        subprocess.run([rasa_python, script, model, texts, result], check=True, capture_output=True)
        ranked = json.loads(result.read_text())
    cached.write_text(json.dumps(ranked, ensure_ascii=False))
    return [[(n, c) for n, c in r] for r in ranked]


def _plain(text: str) -> str:
    """A sentence as a Rasa example: brackets and braces would be read as entity annotations."""
    return text.translate(str.maketrans("", "", "[](){}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-diet", action="store_true", help="voicebot only (no Rasa)")
    parser.add_argument("--sets", default="sample,ha")
    parser.add_argument("--splits", type=int, default=3)
    args = parser.parse_args()
    sets = args.sets.split(",")
    splits = [
        *(sample_splits(args.splits) if "sample" in sets else ()),
        *(ha_splits(args.splits) if "ha" in sets else ()),
    ]
    totals: dict[str, list[tuple[Score, Score | None, Score | None, Score | None]]] = {}
    p95s = []
    for split in splits:
        ours, p95 = voicebot(split)
        p95s.append(p95)
        mine = score(split, ours)
        print(f"{split.name:28} n={len(split.test):4}  voicebot {mine}  p95 {p95 * 1000:.1f} ms", flush=True)
        theirs = matched = equal = None
        if not args.no_diet:
            rasa = diet(split)
            theirs = score(split, rasa)
            threshold, matched = at_wrong_rate(split, ours, theirs.wrong)
            print(f"{'':28} {'':6}  DIET     {theirs}")
            print(f"{'':28} {'':6}  voicebot at DIET's wrong rate (threshold {threshold:.2f}): {matched}")
            level = at_accuracy(split, ours, theirs.accuracy)
            if level is not None:
                equal = level[1]
                print(f"{'':28} {'':6}  voicebot at DIET's accuracy (threshold {level[0]:.2f}): {equal}")
        group = split.name.split(" #")[0]
        totals.setdefault(group, []).append((mine, theirs, matched, equal))
    print("\nmeans over splits")
    for group, rows in totals.items():
        line = f"{group:22} voicebot {_mean([r[0] for r in rows])}"
        if rows[0][1] is not None:
            line += f"\n{'':22} DIET     {_mean([r[1] for r in rows if r[1]])}"
            line += f"\n{'':22} voicebot at DIET's wrong rate {_mean([r[2] for r in rows if r[2]])}"
            reached = [r[3] for r in rows if r[3]]
            if len(reached) == len(rows):
                line += f"\n{'':22} voicebot at DIET's accuracy {_mean(reached)}"
            else:
                short = len(rows) - len(reached)
                line += f"\n{'':22} voicebot below DIET's accuracy at any threshold in {short} split(s)"
        print(line)
    p95s.sort()
    print(f"\nvoicebot predict p95 (worst split) {max(p95s) * 1000:.2f} ms")


def _mean(scores: list[Score]) -> Score:
    n = len(scores)
    return Score(
        sum(s.accuracy for s in scores) / n,
        sum(s.no_match for s in scores) / n,
        sum(s.wrong for s in scores) / n,
        sum(s.flips for s in scores),
    )


if __name__ == "__main__":
    sys.exit(main())

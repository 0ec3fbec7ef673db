"""Cross-validation of an intent set, like ``rasa test nlu``: per-intent precision, recall,
F1, and the pairs most often confused."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from voicebot.dialog.classifier import IntentClassifier
from voicebot.dialog.intents import NluData

NO_MATCH = "(no match)"


@dataclass(frozen=True, slots=True)
class IntentScore:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    folds: int
    accuracy: float
    scores: tuple[IntentScore, ...]
    confused: tuple[tuple[str, str, int], ...]  # (true intent, predicted, count)
    mistakes: tuple[tuple[str, str, str], ...]  # (text, true intent, predicted)


def cross_validate(nlu: NluData, *, folds: int = 5, threshold: float = 0.4, seed: int = 0) -> Evaluation:
    texts = [e.text for examples in nlu.intents.values() for e in examples]
    truth = [name for name, examples in nlu.intents.items() for _ in examples]
    folds = max(2, min(folds, min(Counter(truth).values())))
    predicted = [""] * len(texts)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(texts, truth):
        fold = NluData()
        for i in train:
            example = next(e for e in nlu.intents[truth[i]] if e.text == texts[i])
            fold.intents.setdefault(truth[i], []).append(example)
        fold.regexes = nlu.regexes
        model = IntentClassifier.train(fold, threshold=threshold)
        for i in test:
            predicted[i] = model.predict(texts[i]).intent or NO_MATCH
    labels = sorted(nlu.intents)
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    scores = tuple(
        IntentScore(label, round(float(pi), 3), round(float(ri), 3), round(float(fi), 3), int(si))
        for label, pi, ri, fi, si in zip(labels, p, r, f, s, strict=True)
    )
    pairs = Counter((t, q) for t, q in zip(truth, predicted, strict=True) if t != q)
    mistakes = tuple((x, t, q) for x, t, q in zip(texts, truth, predicted, strict=True) if t != q)
    accuracy = sum(t == q for t, q in zip(truth, predicted, strict=True)) / len(truth)
    return Evaluation(
        folds, round(accuracy, 4), scores, tuple((t, q, n) for (t, q), n in pairs.most_common(10)), mistakes
    )

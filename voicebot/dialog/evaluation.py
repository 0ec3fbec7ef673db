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
#: Pairs of intents that mean the opposite: reading one for the other flips the conversation.
POLARITY = frozenset(
    frozenset(pair)
    for pair in (
        ("affirm", "deny"),
        ("interested", "not_interested"),
        ("affirm", "not_interested"),
        ("interested", "deny"),
        ("opt_out", "affirm"),
        ("opt_out", "interested"),
    )
)


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
    no_match: float = 0.0  # the share answered "no match"
    #: Mistakes that read the opposite of what was said (yes for no, interested for not)
    flips: tuple[tuple[str, str, str], ...] = ()

    @property
    def wrong(self) -> float:
        """The share answered with a wrong intent (not "no match"): the costly mistakes."""
        return round(1.0 - self.accuracy - self.no_match, 4)


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
    return _evaluate(folds, sorted(nlu.intents), texts, truth, predicted)


def held_out(nlu: NluData, heldout: NluData, *, threshold: float = 0.4) -> Evaluation:
    """Train on ``nlu``, test on ``heldout`` (sentences written apart from the training
    examples, in the same Rasa format): ``folds`` is 0."""
    model = IntentClassifier.train(nlu, threshold=threshold)
    texts = [e.text for examples in heldout.intents.values() for e in examples]
    truth = [name for name, examples in heldout.intents.items() for _ in examples]
    predicted = [model.predict(text).intent or NO_MATCH for text in texts]
    return _evaluate(0, sorted(set(nlu.intents) | set(heldout.intents)), texts, truth, predicted)


def _evaluate(
    folds: int, labels: list[str], texts: list[str], truth: list[str], predicted: list[str]
) -> Evaluation:
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    scores = tuple(
        IntentScore(label, round(float(pi), 3), round(float(ri), 3), round(float(fi), 3), int(si))
        for label, pi, ri, fi, si in zip(labels, p, r, f, s, strict=True)
        if si or pi
    )
    pairs = Counter((t, q) for t, q in zip(truth, predicted, strict=True) if t != q)
    mistakes = tuple((x, t, q) for x, t, q in zip(texts, truth, predicted, strict=True) if t != q)
    accuracy = sum(t == q for t, q in zip(truth, predicted, strict=True)) / max(1, len(truth))
    no_match = sum(q == NO_MATCH for q in predicted) / max(1, len(truth))
    flips = tuple(m for m in mistakes if frozenset((m[1], m[2])) in POLARITY)
    return Evaluation(
        folds,
        round(accuracy, 4),
        scores,
        tuple((t, q, n) for (t, q), n in pairs.most_common(10)),
        mistakes,
        round(no_match, 4),
        flips,
    )

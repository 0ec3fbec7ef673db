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
        return max(0.0, round(1.0 - self.accuracy - self.no_match, 4))


@dataclass(frozen=True, slots=True)
class Answers:
    """Each test sentence's truth and the model's answer before any threshold: its likeliest
    intent (None when the model said no match whatever the threshold: the negation guard, or
    no words) and its confidence."""

    folds: int
    labels: list[str]
    texts: list[str]
    truth: list[str]
    best: list[str | None]
    confidence: list[float]

    def at(self, threshold: float) -> Evaluation:
        """The evaluation with ``threshold`` as the no-match threshold."""
        predicted = [
            name if name is not None and c >= threshold else NO_MATCH
            for name, c in zip(self.best, self.confidence, strict=True)
        ]
        return _evaluate(self.folds, self.labels, self.texts, self.truth, predicted)


def cross_validate(nlu: NluData, *, folds: int = 5, threshold: float = 0.4, seed: int = 0) -> Evaluation:
    return cross_validated(nlu, folds=folds, seed=seed).at(threshold)


def cross_validated(nlu: NluData, *, folds: int = 5, seed: int = 0) -> Answers:
    """Every example answered by a model trained on the other folds, like ``rasa test nlu``."""
    texts = [e.text for examples in nlu.intents.values() for e in examples]
    truth = [name for name, examples in nlu.intents.items() for _ in examples]
    folds = max(2, min(folds, min(Counter(truth).values())))
    best: list[str | None] = [None] * len(texts)
    confidence = [0.0] * len(texts)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(texts, truth):
        fold = NluData()
        for i in train:
            example = next(e for e in nlu.intents[truth[i]] if e.text == texts[i])
            fold.intents.setdefault(truth[i], []).append(example)
        fold.regexes = nlu.regexes
        model = IntentClassifier.train(fold, threshold=0.0)
        for i in test:
            best[i], confidence[i] = _answer(model, texts[i])
    return Answers(folds, sorted(nlu.intents), texts, truth, best, confidence)


def held_out(nlu: NluData, heldout: NluData, *, threshold: float = 0.4) -> Evaluation:
    """Train on ``nlu``, test on ``heldout`` (sentences written apart from the training
    examples, in the same Rasa format): ``folds`` is 0."""
    return held_out_answers(nlu, heldout).at(threshold)


def held_out_answers(nlu: NluData, heldout: NluData) -> Answers:
    model = IntentClassifier.train(nlu, threshold=0.0)
    texts = [e.text for examples in heldout.intents.values() for e in examples]
    truth = [name for name, examples in heldout.intents.items() for _ in examples]
    answers = [_answer(model, text) for text in texts]
    labels = sorted(set(nlu.intents) | set(heldout.intents))
    return Answers(0, labels, texts, truth, [a[0] for a in answers], [a[1] for a in answers])


@dataclass(frozen=True, slots=True)
class Calibration:
    """The no-match threshold that keeps wrong answers at or under ``target``, and each
    threshold tried with what it gives."""

    target: float
    threshold: float | None  # None: no threshold tried keeps wrong answers that rare
    rows: tuple[tuple[float, Evaluation], ...]


#: Thresholds tried by :func:`calibrate`: 0.20, 0.25, ... 0.90
THRESHOLDS = tuple(round(0.2 + 0.05 * i, 2) for i in range(15))


def calibrate(answers: Answers, *, wrong: float) -> Calibration:
    """The lowest threshold (the most sentences understood) whose wrong-answer rate is at most
    ``wrong``: a wrong answer costs more than a no match (the bot asks again)."""
    rows = tuple((t, answers.at(t)) for t in THRESHOLDS)
    chosen = next((t for t, e in rows if e.wrong <= wrong), None)
    return Calibration(wrong, chosen, rows)


def _answer(model: IntentClassifier, text: str) -> tuple[str | None, float]:
    prediction = model.predict(text)
    return prediction.intent, prediction.confidence


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

"""The built-in intent classifier: TF-IDF over character n-grams and marked words, and what
the sentence means (:mod:`voicebot.dialog.meaning`), with a linear model (scikit-learn).
Script writers' regexes win over the model; below the confidence threshold the answer is
"no match"."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from voicebot.dialog.features import negated, normalize, tokens
from voicebot.dialog.intents import NluData
from voicebot.dialog.meaning import SentenceEncoder, default_encoder

#: Intents that say yes: the model's answer of one of them, from words with a negation in them
#: ("not", 没), stands only above ``SURE_DESPITE_NEGATION``.
POSITIVE = frozenset({"affirm", "interested"})
SURE_DESPITE_NEGATION = 0.9
#: How much the sentence's meaning counts beside its characters and words (each block has unit
#: length). Chosen on Home Assistant's intent grammars (bench/nlu_diet.py), 3 splits, 12 and 40
#: examples per intent, English and Chinese; never on the held-out sets.
MEANING_WEIGHT = 1.5


@dataclass(frozen=True, slots=True)
class Prediction:
    intent: str | None  # None: no match
    confidence: float
    source: str  # "regex", "example" (said exactly as an example), "model", or "none"
    ranking: tuple[tuple[str, float], ...] = ()


class Classifier(Protocol):
    """Anything that turns a callee's words into an intent: built in, or a Rasa server."""

    #: below this confidence the answer is no match
    threshold: float

    def predict(self, text: str) -> Prediction: ...


class IntentClassifier:
    """Trained from an :class:`NluData`; ``predict`` takes ~2 ms (most of it the meaning)."""

    def __init__(
        self,
        model: LinearModel | None,
        labels: Sequence[str],
        overrides: Sequence[tuple[str, re.Pattern[str]]],
        threshold: float,
        exact: Mapping[str, str] | None = None,
    ) -> None:
        self._model = model
        self._labels = list(labels)
        self._overrides = list(overrides)
        self._exact = dict(exact or {})
        self.threshold = threshold

    @classmethod
    def train(
        cls,
        nlu: NluData,
        *,
        threshold: float = 0.4,
        c: float = 50.0,
        encoder: SentenceEncoder | None = None,
    ) -> IntentClassifier:
        """Fit on every intent's examples. A regex entry named after an intent overrides the model.

        ``encoder`` gives the sentences' meaning (the shared multilingual encoder unless told).
        """
        texts = [e.text for examples in nlu.intents.values() for e in examples]
        labels = [name for name, examples in nlu.intents.items() for _ in examples]
        overrides = [
            (name, re.compile(pattern, re.IGNORECASE))
            for name, patterns in nlu.regexes.items()
            if name in nlu.intents
            for pattern, _ in patterns
        ]
        # a caller who says exactly an example ("yes") means its intent, whatever the model thinks
        owners: dict[str, set[str]] = {}
        for text, label in zip(texts, labels, strict=True):
            owners.setdefault(_key(text), set()).add(label)
        exact = {key: next(iter(names)) for key, names in owners.items() if len(names) == 1}
        if len(set(labels)) < 2:
            return cls(None, sorted(set(labels)), overrides, threshold, exact)
        model = LinearModel.fit(texts, labels, c=c, encoder=encoder or default_encoder())
        return cls(model, model.classes, overrides, threshold, exact)

    @property
    def intents(self) -> list[str]:
        return list(self._labels)

    def predict(self, text: str) -> Prediction:
        for name, pattern in self._overrides:
            if pattern.search(text):
                return Prediction(name, 1.0, "regex", ((name, 1.0),))
        exact = self._exact.get(_key(text))
        if exact is not None:
            return Prediction(exact, 1.0, "example", ((exact, 1.0),))
        if self._model is None or not text.strip():
            return Prediction(None, 0.0, "none")
        probs = self._model.probabilities(text)
        order = np.argsort(probs)[::-1]
        ranking = tuple((str(self._labels[i]), round(float(probs[i]), 4)) for i in order[:5])
        best, confidence = ranking[0]
        if confidence < self.threshold:
            return Prediction(None, confidence, "model", ranking)
        if best in POSITIVE and confidence < SURE_DESPITE_NEGATION and negated(text):
            # "that doesn't interest me" is not "interested", however like it looks: a yes read
            # from words that say no would pitch to someone who refused; ask again instead
            return Prediction(None, confidence, "model", ranking)
        return Prediction(best, confidence, "model", ranking)


@dataclass(frozen=True, slots=True)
class Terms:
    """One TF-IDF block as it was fitted: each term's column, and the vectorizer itself."""

    vectorizer: TfidfVectorizer
    analyze: Callable[[str], list[str]]
    columns: Mapping[str, int]
    idf: np.ndarray
    offset: int  # where the block starts among all the model's features

    @classmethod
    def fit(
        cls, vectorizer: TfidfVectorizer, texts: Sequence[str], offset: int
    ) -> tuple[Terms, sparse.csr_matrix]:
        matrix = vectorizer.fit_transform(texts)
        terms = cls(vectorizer, vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, offset)
        return terms, matrix

    @property
    def width(self) -> int:
        return len(self.columns)

    def vector(self, text: str) -> tuple[list[int], np.ndarray]:
        """The text's non-zero features: columns and values, as ``transform`` would give them
        (sublinear term frequency times idf, unit length)."""
        counts = Counter(t for t in self.analyze(text) if t in self.columns)
        if not counts:
            return [], np.zeros(0)
        columns = [self.columns[t] for t in counts]
        values = np.array([1.0 + math.log(n) for n in counts.values()]) * self.idf[columns]
        values /= np.linalg.norm(values)
        return [self.offset + c for c in columns], values


class LinearModel:
    """Logistic regression over [characters | words | meaning]. Fitted with scikit-learn; one
    sentence is scored here directly (~0.1 ms, where scikit-learn's checks take ~1.5)."""

    def __init__(
        self,
        terms: Sequence[Terms],
        encoder: SentenceEncoder,
        regression: LogisticRegression,
    ) -> None:
        self._terms = list(terms)
        self._encoder = encoder
        self._meaning_at = sum(t.width for t in terms)
        self.regression = regression
        self.classes = [str(c) for c in regression.classes_]
        self._coef = np.asarray(regression.coef_, dtype=np.float64)
        self._intercept = np.asarray(regression.intercept_, dtype=np.float64)

    @classmethod
    def fit(
        cls, texts: Sequence[str], labels: Sequence[str], *, c: float, encoder: SentenceEncoder
    ) -> LinearModel:
        vectorizers = [
            TfidfVectorizer(
                analyzer="char_wb", ngram_range=(1, 4), preprocessor=normalize, sublinear_tf=True
            ),
            TfidfVectorizer(analyzer=_word_ngrams, sublinear_tf=True),
        ]
        blocks: list[Terms] = []
        matrices: list[sparse.csr_matrix] = []
        for vectorizer in vectorizers:
            terms, matrix = Terms.fit(vectorizer, texts, sum(t.width for t in blocks))
            blocks.append(terms)
            matrices.append(matrix)
        regression = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        regression.fit(_stacked(matrices, encoder.encode(texts)), labels)
        return cls(blocks, encoder, regression)

    def features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """Many texts' features as scikit-learn computes them (what the model was fitted on)."""
        matrices = [t.vectorizer.transform(texts) for t in self._terms]
        return _stacked(matrices, self._encoder.encode(texts))

    def probabilities(self, text: str) -> np.ndarray:
        """Each class's probability for one text, in ``classes`` order."""
        logits = self._intercept.copy()
        for terms in self._terms:
            columns, values = terms.vector(text)
            if columns:
                logits += self._coef[:, columns] @ values
        meaning = self._encoder.encode([text])[0]
        end = self._meaning_at + meaning.shape[0]
        logits += self._coef[:, self._meaning_at : end] @ (MEANING_WEIGHT * meaning.astype(np.float64))
        if len(self.classes) == 2:  # one logit: the second class's
            second = 1.0 / (1.0 + math.exp(-logits[0]))
            return np.array([1.0 - second, second])
        logits -= logits.max()
        exp = np.exp(logits)
        probabilities: np.ndarray = exp / exp.sum()
        return probabilities


def _stacked(matrices: Sequence[sparse.spmatrix], meaning: np.ndarray) -> sparse.csr_matrix:
    return sparse.hstack([*matrices, sparse.csr_matrix(MEANING_WEIGHT * meaning)]).tocsr()


def settle(prediction: Prediction, routes: Mapping[str, str], threshold: float) -> Prediction:
    """A no match whose likeliest intents all lead to the same step takes that step.

    "Yes please, put me through" is half ``affirm`` and half ``ask_human``: neither is sure
    enough alone, but at the offer both transfer, so the callee is transferred. The step's
    confidence is the sum of its intents' (the chance the callee meant any of them); the intent
    kept is the likeliest of them. Intents leading elsewhere, or unknown here, never add up, so
    an answer that is half yes and half no stays no match.
    """
    if prediction.intent is not None or not prediction.ranking:
        return prediction
    steps: dict[str, float] = {}
    for name, confidence in prediction.ranking:
        if name in routes:
            steps[routes[name]] = steps.get(routes[name], 0.0) + confidence
    if not steps:
        return prediction
    step, total = max(steps.items(), key=lambda item: item[1])
    members = [name for name, _ in prediction.ranking if routes.get(name) == step]
    if total < threshold or len(members) < 2:
        return prediction
    return Prediction(members[0], round(total, 4), f"{prediction.source}+step", prediction.ranking)


def _word_ngrams(text: str) -> list[str]:
    words = tokens(text)
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def extract_entities(
    text: str, nlu: NluData, lookups: Mapping[str, Sequence[str]] | None = None
) -> dict[str, str]:
    """Entities by regex, lookup tables and the values annotated in examples, with synonyms mapped
    to their canonical value."""
    found: dict[str, str] = {}
    for name, patterns in nlu.regexes.items():
        if name in nlu.intents:
            continue
        for pattern, _ in patterns:
            m = re.search(pattern, text, re.IGNORECASE)
            if m and m.group(0).strip():
                found[name] = m.group(0)
                break
    lowered = normalize(text)
    tables: dict[str, list[str]] = {k: sorted(v) for k, v in nlu.entity_values.items()}
    for name, values in (lookups or nlu.lookups).items():
        tables.setdefault(name, []).extend(values)
    for name, values in tables.items():
        if name in found:
            continue
        for value in sorted(values, key=len, reverse=True):
            if _contains(lowered, normalize(value)):
                found[name] = value
                break
    return {k: nlu.synonyms.get(v.lower(), v) for k, v in found.items()}


def _contains(text: str, value: str) -> bool:
    """Whole-word match for Latin values ("Tom" is not in "tomorrow"); substring for CJK."""
    if re.search(r"[a-z0-9]", value):
        return re.search(rf"(?<![a-z0-9]){re.escape(value)}(?![a-z0-9])", text) is not None
    return value in text


def _key(text: str) -> str:
    """An example's identity: normalized, without punctuation."""
    return " ".join(re.sub(r"[^\w\s']", " ", normalize(text)).split())

"""The sentence encoder (the real one, from its wheel) and what it adds to the classifier: words
no example has, understood by what they mean."""

import numpy as np
import pytest

from voicebot.dialog.classifier import IntentClassifier
from voicebot.dialog.intents import parse_nlu
from voicebot.dialog.meaning import default_encoder


class NoMeaning:
    """Every sentence means the same: the classifier from characters and words alone."""

    dimensions = 512

    def encode(self, texts):
        return np.zeros((len(texts), self.dimensions), dtype=np.float32)


def test_sentences_that_mean_the_same_lie_closer_than_ones_that_do_not():
    encoder = default_encoder()
    vectors = encoder.encode(
        [
            "no thanks, I don't need it",
            "not interested",
            "yes, tell me more",
            "不需要了",
            "我没兴趣",
            "说来听听",
        ]
    )
    assert vectors.shape == (6, encoder.dimensions)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    similarity = vectors @ vectors.T
    # the refusal is nearer the other refusal than the yes, in each language and across them
    assert similarity[0, 1] > similarity[0, 2]
    assert similarity[3, 4] > similarity[3, 5]
    assert similarity[3, 1] > similarity[3, 2]
    assert encoder.encode([]).shape == (0, encoder.dimensions)


def _script(rows: str):
    return parse_nlu(f'version: "3.1"\nnlu:\n{rows}', "nlu.yml")


EN = _script(
    """- intent: interested
  examples: |
    - sounds good
    - tell me more
    - I'm interested
- intent: not_interested
  examples: |
    - no thanks
    - not interested
    - I'll pass
- intent: ask_price
  examples: |
    - how much is it
    - what does it cost
"""
)
ZH = _script(
    """- intent: interested
  examples: |
    - 我有兴趣
    - 说说看
    - 听起来不错
- intent: not_interested
  examples: |
    - 不需要
    - 不用了
    - 没兴趣
- intent: ask_price
  examples: |
    - 多少钱
    - 价格是多少
"""
)


@pytest.mark.parametrize(
    ("nlu", "text", "intent"),
    [
        (EN, "what's the monthly fee", "ask_price"),
        (EN, "that would be lovely", "interested"),
        (ZH, "你继续讲", "interested"),
        (ZH, "这个要付钱吗", "ask_price"),
        (ZH, "收费标准是什么", "ask_price"),
    ],
)
def test_words_no_example_has_are_understood_by_their_meaning(nlu, text, intent):
    with_meaning = IntentClassifier.train(nlu).predict(text)
    without = IntentClassifier.train(nlu, encoder=NoMeaning()).predict(text)
    assert with_meaning.intent == intent, with_meaning
    assert without.intent != intent, without


@pytest.mark.parametrize(
    "nlu",
    [EN, ZH, _script("- intent: yes\n  examples: |\n    - yes\n- intent: no\n  examples: |\n    - no\n")],
)
def test_one_sentence_is_scored_as_scikit_learn_scores_it(nlu):
    """The classifier scores one sentence itself (scikit-learn's checks cost ~1.5 ms a call);
    its probabilities are scikit-learn's, for many classes and for two."""
    model = IntentClassifier.train(nlu)._model
    assert model is not None
    texts = [
        "sounds lovely, go on",
        "no no no",
        "多少钱一个月",
        "不用了谢谢",
        "",
        "x",
        "what does it cost per month",
    ]
    expected = model.regression.predict_proba(model.features(texts))
    got = np.vstack([model.probabilities(t) for t in texts])
    assert got.shape == expected.shape
    assert np.allclose(got, expected, atol=1e-6)

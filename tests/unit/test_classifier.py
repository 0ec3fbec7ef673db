"""The built-in classifier on the shipped samples: Chinese and English, negation, overrides, no-match.

Cross-validated accuracy is a benchmark figure (bench/nlu.py); these tests pin behaviour that
must not break.
"""

from pathlib import Path

import pytest

from voicebot.dialog.classifier import IntentClassifier, extract_entities
from voicebot.dialog.features import tokens
from voicebot.dialog.intents import load_nlu, parse_nlu

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def en():
    nlu = load_nlu([ROOT / "intents/broadband-en/nlu.yml"])
    return nlu, IntentClassifier.train(nlu)


@pytest.fixture(scope="module")
def zh():
    nlu = load_nlu([ROOT / "intents/broadband-zh/nlu.yml"])
    return nlu, IntentClassifier.train(nlu)


def test_negation_is_marked_in_both_languages():
    assert tokens("I'm not interested") == ["i'm", "not", "not_interested"]
    assert tokens("我不感兴趣") == ["我", "不", "not_感兴", "感", "兴", "趣"]
    assert "not_感兴" not in tokens("我感兴趣")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("yes, I'm interested in that", "interested"),
        ("I'm not interested", "not_interested"),
        ("no I am really not interested, thanks", "not_interested"),
        ("how much would it be per month", "ask_price"),
        ("am I talking to a real person", "is_robot"),
        ("who gave you my phone number", "ask_how_got_number"),
        ("I'm busy, call me tomorrow", "busy_call_later"),
        ("I've already got fibre with Sky", "already_have"),
    ],
)
def test_english(en, text, intent):
    assert en[1].predict(text).intent == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我有兴趣", "interested"),
        ("我不感兴趣", "not_interested"),
        ("没兴趣谢谢", "not_interested"),
        ("别再打了", "opt_out"),
        ("一个月多少钱", "ask_price"),
        ("你是机器人吗", "is_robot"),
        ("明天上午再打吧", "busy_call_later"),
    ],
)
def test_mandarin(zh, text, intent):
    assert zh[1].predict(text).intent == intent


def test_regex_named_after_an_intent_wins(en):
    prediction = en[1].predict("ok whatever, just take me off your list")
    assert (prediction.intent, prediction.source, prediction.confidence) == ("opt_out", "regex", 1.0)


def test_below_threshold_is_no_match(zh, en):
    gibberish = en[1].predict("xyzzy plugh")  # no feature the model knows: near-uniform guess
    assert gibberish.intent is None and gibberish.confidence < en[1].threshold
    assert zh[1].predict("").intent is None
    strict = IntentClassifier.train(zh[0], threshold=0.99)
    prediction = strict.predict("请问一个月要多少钱呀")  # not an example word for word
    assert prediction.intent is None
    assert prediction.ranking[0][0] == "ask_price"  # the ranking is kept for the script and the logs


def test_entities_from_regex_examples_and_synonyms(en, zh):
    assert extract_entities("call me back tomorrow please", en[0]) == {"callback_time": "tomorrow"}
    assert extract_entities("我家装的是电信的", zh[0]) == {"competitor": "电信"}
    nlu = parse_nlu(
        "nlu:\n- intent: a\n  examples: |\n    - [x](e)\n- intent: b\n  examples: |\n    - y\n"
        "- lookup: plan\n  examples: |\n    - gold plan\n- synonym: premium\n  examples: |\n"
        "    - gold plan\n",
        "n.yml",
    )
    assert extract_entities("I want the Gold Plan", nlu) == {"plan": "premium"}


def ranked(*pairs):
    from voicebot.dialog.classifier import Prediction

    return Prediction(None, pairs[0][1], "model", tuple(pairs))


def test_likely_intents_leading_to_the_same_step_add_up():
    from voicebot.dialog.classifier import settle

    routes = {"affirm": "node:transfer", "ask_human": "node:transfer", "deny": "node:goodbye"}
    both = settle(ranked(("affirm", 0.37), ("ask_human", 0.36), ("deny", 0.1)), routes, 0.4)
    assert (both.intent, both.confidence, both.source) == ("affirm", 0.73, "model+step")
    # half yes, half no: two steps, neither sure enough
    split = ranked(("affirm", 0.35), ("deny", 0.33), ("ask_human", 0.04))
    assert settle(split, routes, 0.4).intent is None
    # one intent alone below the threshold is not helped; nor intents this node does not know
    assert settle(ranked(("affirm", 0.39), ("deny", 0.05)), routes, 0.4).intent is None
    assert settle(ranked(("price", 0.3), ("cost", 0.3)), routes, 0.4).intent is None
    # a sure answer is left as it is
    from voicebot.dialog.classifier import Prediction

    sure = Prediction("deny", 0.9, "model", (("deny", 0.9),))
    assert settle(sure, routes, 0.4) is sure


def test_yes_please_put_me_through_transfers_at_the_offer_however_it_was_heard():
    """Whisper heard the lab callee's "Yes please, put me through" as "Yeah please, but me
    through": split between affirm, interested and ask_human, each of which transfers at the
    offer."""
    from voicebot.calls.scripted import LoadedScript
    from voicebot.dialog.script import Script, State, Transfer

    loaded = LoadedScript.load(ROOT / "intents/broadband-en", "en-us")
    script = Script(loaded.flow)
    for heard in ("Yes please, put me through.", "Yeah please, but me through"):
        prediction, event = loaded.understand(heard, node="offer")
        assert prediction.intent in ("affirm", "interested", "ask_human"), prediction
        _, actions = script.step(State(node="offer", path=("opening", "offer")), event)
        assert any(isinstance(a, Transfer) for a in actions), (heard, actions)


def test_negation_is_found_outside_the_idioms_that_mean_yes():
    from voicebot.dialog.features import negated

    assert negated("that doesn't interest me") and negated("没有啊") and negated("I'm not sure")
    assert not negated("no problem, go ahead") and not negated("没问题") and not negated("why not")
    assert not negated("yes I know") and not negated("sounds good")  # "no" inside "know" is not one


def test_a_yes_read_from_words_that_say_no_is_no_match(zh):
    # a script with few examples: its model reads "that doesn't interest me" as interested (its
    # words look like the positive examples); a wrong yes would pitch to a callee who refused
    nlu = parse_nlu(
        """
version: "3.1"
nlu:
- intent: interested
  examples: |
    - I'm interested
    - that interests me
    - sounds interesting
    - tell me more about it
- intent: not_interested
  examples: |
    - no thanks
    - I'll pass
    - not for me
""",
        "nlu.yml",
    )
    model = IntentClassifier.train(nlu)
    prediction = model.predict("that doesn't interest me")
    assert prediction.intent is None, prediction
    assert prediction.ranking[0][0] == "interested", prediction
    # the sample's own model reads this denial as one (it read it as affirm before the meaning)
    assert zh[1].predict("没有啊").intent not in ("interested", "affirm")
    # said plainly, yes still means yes, negated idioms included
    assert model.predict("that interests me a lot").intent == "interested"
    assert zh[1].predict("没问题").intent == "affirm"


def test_traditional_characters_are_read_as_simplified(zh):
    from voicebot.dialog.features import normalize

    assert normalize("別再打了，對的") == "别再打了,对的"  # NFKC folds the full-width comma
    assert normalize("Ｙes 12") == "yes 12"  # no Chinese: only the width and case folded
    for simplified, traditional in (("别再打了", "別再打了"), ("多少钱一个月", "多少錢一個月"), ("对", "對")):
        assert zh[1].predict(traditional).intent == zh[1].predict(simplified).intent is not None

"""Cross-validation of intents, and `voicebot nlu test`."""

import subprocess
import sys
from pathlib import Path

from voicebot.dialog.evaluation import NO_MATCH, cross_validate
from voicebot.dialog.intents import parse_nlu

ROOT = Path(__file__).resolve().parents[2]


def nlu_text(intents: dict[str, list[str]]) -> str:
    out = ["nlu:"]
    for name, examples in intents.items():
        out += [f"- intent: {name}", "  examples: |"] + [f"    - {e}" for e in examples]
    return "\n".join(out) + "\n"


def test_separable_intents_score_perfectly():
    nlu = parse_nlu(
        nlu_text(
            {
                "price": [f"how much is plan {i}" for i in range(6)],
                "stop": [f"stop calling me number {i}" for i in range(6)],
            }
        ),
        "n.yml",
    )
    result = cross_validate(nlu, folds=3)
    assert result.accuracy == 1.0
    assert {s.intent: (s.precision, s.recall, s.support) for s in result.scores} == {
        "price": (1.0, 1.0, 6),
        "stop": (1.0, 1.0, 6),
    }
    assert result.confused == ()


def test_confusions_are_counted_and_listed():
    nlu = parse_nlu(
        nlu_text(
            {
                "a": ["same words here", "same words here too", "same words again", "more same words"],
                "b": ["same words here", "same words here also", "same words once more", "words same"],
                "c": ["completely different", "another different one", "different again", "so different"],
            }
        ),
        "n.yml",
    )
    result = cross_validate(nlu, folds=2)
    assert result.accuracy < 1.0
    assert all(t in {"a", "b"} and q in {"a", "b", NO_MATCH} for t, q, _ in result.confused)
    assert len(result.mistakes) == sum(n for _, _, n in result.confused)


def test_cli_reports_per_intent_scores():
    out = subprocess.run(
        [sys.executable, "-m", "voicebot", "nlu", "test", str(ROOT / "intents/broadband-en")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "288 examples, 18 intents, 5-fold cross-validation" in out.stdout
    assert "not_interested" in out.stdout and "accuracy 0." in out.stdout


def test_held_out_sentences_give_accuracy_no_match_wrong_answers_and_polarity_flips():
    from voicebot.dialog.evaluation import held_out

    nlu = parse_nlu(
        nlu_text(
            {
                "affirm": ["yes", "yes please", "yeah sure", "that's right", "correct", "yes indeed"],
                "deny": ["no", "no thanks", "nope", "not at all", "that's wrong", "no way"],
                "ask_price": ["how much is it", "what's the price", "how much does it cost", "price please"],
            }
        ),
        "n.yml",
    )
    tests = parse_nlu(
        nlu_text({"affirm": ["yes correct", "sure"], "deny": ["yes sure right"], "ask_price": ["the price"]}),
        "heldout.yml",
    )
    result = held_out(nlu, tests)
    predicted = {text: q for text, _, q in result.mistakes}
    assert result.folds == 0 and len(result.mistakes) == round((1 - result.accuracy) * 4)
    assert predicted.get("yes sure right") == "affirm"  # a deny read as affirm: a polarity flip
    assert ("yes sure right", "deny", "affirm") in result.flips
    assert result.no_match == sum(q == NO_MATCH for q in predicted.values()) / 4
    assert result.wrong == round(1 - result.accuracy - result.no_match, 4)


def test_cli_tests_on_a_held_out_file():
    out = subprocess.run(
        [sys.executable, "-m", "voicebot", "nlu", "test", str(ROOT / "intents/broadband-zh"),
         "--heldout", str(ROOT / "bench/heldout/zh.yml")],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "held out: 95 sentences of 18 intents" in out.stdout, out.stdout
    assert "no match 0." in out.stdout and "polarity flips" in out.stdout

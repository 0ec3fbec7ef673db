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


def test_calibration_picks_the_lowest_threshold_that_keeps_wrong_answers_that_rare():
    from voicebot.dialog.evaluation import Answers, calibrate

    # four answers: a sure right one, a sure wrong one, an unsure right one, an unsure wrong one
    answers = Answers(
        0,
        ["a", "b"],
        ["s1", "s2", "s3", "s4"],
        ["a", "a", "b", "b"],
        ["a", "b", "b", "a"],
        [0.95, 0.72, 0.5, 0.3],
    )
    assert answers.at(0.2).wrong == 0.5 and answers.at(0.2).accuracy == 0.5
    assert answers.at(0.4).wrong == 0.25 and answers.at(0.4).no_match == 0.25
    found = calibrate(answers, wrong=0.25)
    assert found.threshold == 0.35  # 0.3 is still answered (wrongly); above it only the sure wrong one
    assert calibrate(answers, wrong=0.0).threshold == 0.75  # above the sure wrong answer
    assert calibrate(answers, wrong=0.0).rows[-1][1].accuracy == 0.25
    never = Answers(0, ["a", "b"], ["s"], ["a"], ["b"], [1.0])
    assert calibrate(never, wrong=0.0).threshold is None
    # the same model's evaluation at a threshold is the one held_out gives
    nlu = parse_nlu(
        nlu_text({"affirm": ["yes", "yes please", "sure"], "deny": ["no", "no thanks", "nope"]}), "n.yml"
    )
    tests = parse_nlu(nlu_text({"affirm": ["yeah sure"], "deny": ["nah", "no way"]}), "t.yml")
    from voicebot.dialog.evaluation import held_out, held_out_answers

    assert held_out_answers(nlu, tests).at(0.4) == held_out(nlu, tests, threshold=0.4)


def test_cli_calibrates_a_script_on_held_out_sentences():
    command = [sys.executable, "-m", "voicebot", "nlu", "calibrate", str(ROOT / "intents/broadband-en"),
               "--heldout", str(ROOT / "bench/heldout/en.yml")]  # fmt: skip
    out = subprocess.run([*command, "--wrong", "0.05"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "0.40" in out.stdout and "<- the flow's" in out.stdout, out.stdout
    assert "understanding:\n  threshold: 0." in out.stdout, out.stdout
    # cross-validated, no threshold keeps every answer right: said so, exit 1
    out = subprocess.run([*command[:-2], "--wrong", "0"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "no threshold keeps wrong answers" in out.stdout, out.stdout


def test_the_flow_sets_the_scripts_no_match_threshold(tmp_path):
    import shutil

    from voicebot.calls.scripted import LoadedScript

    script = tmp_path / "script"
    shutil.copytree(ROOT / "intents/broadband-en", script)
    flow = script / "flow.yml"
    flow.write_text(flow.read_text() + "\nunderstanding:\n  threshold: 0.95\n")
    loaded = LoadedScript.load(script, "en-us")
    assert loaded.classifier.threshold == 0.95
    # a sentence the sample understands at its default 0.4 is no match at 0.95
    said = "could somebody real talk to me"
    assert LoadedScript.load(ROOT / "intents/broadband-en", "en-us").understand(said)[0].intent == "ask_human"
    assert loaded.understand(said)[0].intent is None

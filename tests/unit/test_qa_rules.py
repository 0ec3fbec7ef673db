"""Quality inspection's rule engine on calls written out turn by turn (pure), the sample rubrics
on the sample scripts' calls, and bad rubric files as located errors. The twin on real calls
through the lab: tests/integration/test_scripted_calls.py scores them."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicebot.qa.check import check_rubric
from voicebot.qa.inspect import CallView, Turn, hits_of, inspect
from voicebot.qa.rubric import Condition, load_rubric
from voicebot.store import CallRecord

ROOT = Path(__file__).resolve().parents[2]
EN = ROOT / "intents/broadband-en"
OPENING = "Hello, this is an automated call from Acme Broadband. We have a fibre offer for your area."


def bot(text: str, start: float, end: float, node: str, cut: bool = False) -> Turn:
    return Turn("bot", text, start, end, node=node, cut=cut)


def callee(text: str, start: float, end: float, intent: str | None = None) -> Turn:
    return Turn("callee", text, start, end, intent=intent)


def call(
    *turns: Turn, seconds: float = 30.0, ended_by: str = "callee-hangup", waited: bool = False
) -> CallView:
    return CallView(turns, seconds, ended_by, bot_waited=waited, variables={"company": "Acme Broadband"})


def when(**condition) -> Condition:
    return Condition.model_validate(condition)


GOOD = call(
    bot(OPENING, 0.0, 6.0, "opening"),
    callee("yes go on", 6.8, 7.6, "affirm"),
    bot("Our full fibre plan is 500 megabits for 25 dollars a month.", 8.2, 14.0, "offer"),
    callee("how much is it after the first year", 15.0, 16.5, "ask_price"),
    bot("It's 25 dollars a month for the first year, then 35.", 17.0, 21.0, "objection_price"),
    callee("no thanks", 22.0, 22.8, "not_interested"),
    bot("Thank you for your time. Goodbye.", 23.5, 26.0, "goodbye"),
)


def test_keywords_any_all_none_n_of_by_speaker_per_turn_or_across_turns():
    assert hits_of(
        when(keywords={"all": ["{company}", "automated"], "speaker": "bot", "turns": "first"}), GOOD
    )
    assert not hits_of(
        when(keywords={"all": ["{company}", "dollars"], "speaker": "bot"}), GOOD
    )  # no one turn
    assert hits_of(when(keywords={"all": ["{company}", "dollars"], "speaker": "bot", "scope": "call"}), GOOD)
    assert not hits_of(when(keywords={"any": ["no thanks"], "speaker": "bot"}), GOOD)  # the callee said it
    two_of = {"any": ["fibre", "megabits", "dollars"], "at_least": 2, "speaker": "bot"}
    assert [h.turn for h in hits_of(when(keywords=two_of), GOOD)] == [2]  # the others say one of them
    assert len(hits_of(when(keywords={"none": ["dollars"], "speaker": "bot"}), GOOD)) == 2


def test_a_regex_with_exclusions():
    money = when(regex={"pattern": r"\d+ dollars", "exclude": ["first year"], "speaker": "bot"})
    assert [h.turn for h in hits_of(money, GOOD)] == [2]
    assert hits_of(when(regex={"pattern": r"{company}", "turns": "first"}), GOOD)


def test_silence_talk_over_rate_repeats_hangup_and_length():
    slow = call(bot("Hello", 0, 1, "opening"), callee("yes", 1.5, 2.0), bot("So...", 6.5, 7.0, "offer"))
    assert [h.turn for h in hits_of(when(silence={"longer_than": 3, "speaker": "bot"}), slow)] == [2]
    assert not hits_of(when(silence={"longer_than": 3, "speaker": "callee"}), slow)
    # a bot prompt after a no-input wait is no slow answer: nobody spoke to the bot
    quiet = call(bot("Hello", 0, 1, "opening"), bot("Are you there?", 7, 8, "opening"))
    assert not hits_of(when(silence={"longer_than": 3, "speaker": "bot"}), quiet)
    assert hits_of(when(repeated={"times": 2}), quiet)
    over = call(bot("Our plan is great value", 0, 4, "offer"), callee("stop", 2.5, 3.0))
    assert hits_of(when(talk_over={"speaker": "callee", "longer_than": 1}), over)
    assert not hits_of(when(talk_over={"speaker": "callee", "longer_than": 2}), over)
    gabble = call(bot(" ".join(["word"] * 30), 0, 5, "offer"))  # 360 words a minute
    assert hits_of(when(rate={"above": 220}), gabble)
    assert not hits_of(when(rate={"above": 220}), GOOD)
    assert hits_of(when(hangup={"by": "bot", "waited": False}), call(ended_by="bot-hangup"))
    assert not hits_of(when(hangup={"by": "bot", "waited": False}), call(ended_by="bot-hangup", waited=True))
    assert hits_of(when(hangup={"by": "abnormal"}), call(ended_by="max-duration"))
    assert hits_of(when(duration={"longer_than": 300}), call(seconds=301))


def test_intents_nodes_and_their_order():
    refused_then_pitched = call(
        bot(OPENING, 0, 6, "opening"),
        callee("not interested", 7, 8, "not_interested"),
        bot("It's half the price. Sure?", 9, 12, "objection_not_interested"),
        callee("no", 13, 13.5, "deny"),
        bot("Our plan is 500 megabits.", 14, 18, "offer"),
    )
    pitch = {"node": {"any": ["offer", "objection_not_interested"]}}
    twice = when(after={"first": {"intent": ["not_interested"]}, "then": pitch, "at_least": 2})
    assert hits_of(twice, refused_then_pitched) and not hits_of(twice, GOOD)
    price = when(
        after={
            "first": {"intent": ["ask_price"]},
            "then": {"node": {"other_than": ["objection_price"]}},
            "next": True,
        }
    )
    assert not hits_of(price, GOOD)  # the next prompt after the question was the price
    ignored = call(callee("how much", 0, 1, "ask_price"), bot("Goodbye", 2, 3, "goodbye"))
    assert hits_of(price, ignored)
    assert hits_of(
        when(before={"first": {"intent": ["not_interested"]}, "then": {"node": {"any": ["offer"]}}}), GOOD
    )
    assert hits_of(
        when(node={"any": ["opening"], "cut": True}), call(bot(OPENING, 0, 2, "opening", cut=True))
    )
    assert not hits_of(when(node={"any": ["opening"], "cut": True}), GOOD)
    both = when(all=[{"intent": ["ask_price"]}, {"node": {"any": ["goodbye"]}}])
    assert hits_of(both, GOOD) and not hits_of(both, call(callee("how much", 0, 1, "ask_price")))
    assert hits_of(when(**{"not": {"intent": ["opt_out"]}}), GOOD)
    assert hits_of(when(any=[{"intent": ["opt_out"]}, {"intent": ["ask_price"]}]), GOOD)


def test_the_sample_rubric_passes_a_good_call_and_fails_a_bad_one():
    rubric = load_rubric(EN)
    good = inspect(rubric, GOOD)
    assert (good.score, good.passed, good.failed_rules) == (10, True, [])
    assert [f.rule for f in good.findings if f.met is None] == ["tone_and_clarity"]  # the inspector's
    pushy = call(
        bot("Hello, this is Acme Broadband.", 0, 3, "opening", cut=True),  # no "automated", cut short
        callee("not interested", 2, 3, "not_interested"),
        bot("It's half the price. Sure?", 7.5, 10, "objection_not_interested"),  # 4.5 s to answer
        callee("no", 11, 11.5, "not_interested"),
        bot("Our plan is 500 megabits.", 12, 15, "offer"),
        seconds=320,
        ended_by="bot-hangup",
    )
    bad = inspect(rubric, pushy)
    assert set(bad.failed_rules) == {
        "opening_identifies",  # -2
        "disclosure_in_full",  # -1
        "no_pitch_after_refusal",  # -2
        "waited_for_callee",  # -1
        "within_length",  # -1
        "prompt_answer",  # -1
    }
    assert (bad.score, bad.passed) == (2, False)
    opted_out = call(
        bot(OPENING, 0, 6, "opening"),
        callee("take me off your list", 7, 8, "opt_out"),
        bot("Our plan is 500 megabits.", 9, 12, "offer"),
    )
    fatal = inspect(rubric, opted_out)
    assert (fatal.score, fatal.passed, fatal.failed_rules) == (0, False, ["opt_out_honoured"])
    # the classifier missed the opt-out: the callee's words still count
    missed = call(
        bot(OPENING, 0, 6, "opening"),
        callee("stop calling me", 7, 8, None),
        bot("Sorry, I didn't catch that.", 9, 11, "opening"),
    )
    assert inspect(rubric, missed).failed_rules == ["opt_out_honoured"]
    # an opt-out answer that slips an offer in
    pitched = call(
        bot(OPENING, 0, 6, "opening"),
        callee("take me off your list", 7, 8, "opt_out"),
        bot("Before you go, it's only 25 dollars a month. Goodbye.", 9, 12, "opt_out"),
    )
    assert inspect(rubric, pitched).failed_rules == ["opt_out_honoured"]
    heeded = call(
        bot(OPENING, 0, 6, "opening"),
        callee("stop calling me", 7, 8, "opt_out"),
        bot("I'm sorry to have bothered you. I've removed your number. Goodbye.", 9, 12, "opt_out"),
    )
    assert inspect(rubric, heeded).failed_rules == []
    claims = call(bot(OPENING + " Speeds are guaranteed, no catch.", 0, 8, "opening"))
    assert inspect(rubric, claims).failed_rules == ["no_forbidden_claims"]


def test_a_stored_call_is_read_with_its_turns_and_how_it_ended():
    record = CallRecord(
        id="c",
        destination="+8613800138000",
        talk_seconds=12.5,
        end_reason="callee-hangup",
        transcript=[
            {"speaker": "bot", "text": OPENING, "start": 0.0, "end": 6.0, "node": "opening", "cut": False},
            {
                "speaker": "callee",
                "text": "no",
                "start": 6.5,
                "end": 7.0,
                "intent": "deny",
                "confidence": 0.9,
            },
            {"speaker": "callee", "text": "old record", "start": 8, "end": 9},  # before turns kept intents
        ],
    )
    view = CallView.of(record, (), {"company": "Acme Broadband"})
    assert [(t.node, t.intent) for t in view.turns] == [("opening", None), (None, "deny"), (None, None)]
    assert (view.seconds, view.ended_by, view.bot_waited) == (12.5, "callee-hangup", False)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("rubric: x\nrules:\n  - id: a\n    title: t\n    points: 1\n", 3, "one of must"),
        (
            "rubric: x\nrules:\n  - id: a\n    title: t\n    points: 1\n    must: {keywords: {}}\n",
            6,
            "any, all or none",
        ),
        (
            "rubric: x\nrules:\n  - id: a\n    title: t\n    points: 1\n    must: {regex: {pattern: '(('}}\n",
            6,
            "not a regular expression",
        ),
        (
            "rubric: x\nrules:\n  - id: a\n    title: t\n    points: 1\n"
            "    must: {duration: {longer_than: 3}, silence: {longer_than: 2}}\n",
            6,
            "exactly one check",
        ),
        (
            "rubric: x\npass_mark: 11\nrules:\n  - {id: a, title: t, points: 1, manual: true}\n",
            None,
            "above the total",
        ),
    ],
)
def test_a_bad_rubric_is_a_located_error(tmp_path, text, line, message):
    path = tmp_path / "qa.yml"
    path.write_text(text)
    (finding,) = check_rubric(path)
    assert finding.severity == "error" and message in finding.message, finding
    if line is not None:
        assert finding.line == line, finding


def test_a_rubric_naming_what_the_script_does_not_have_is_an_error(tmp_path):
    for name in ("flow.yml", "nlu.yml"):
        (tmp_path / name).write_text((EN / name).read_text())
    text = (
        (EN / "qa.yml")
        .read_text()
        .replace("- {intent: [opt_out]}", "- {intent: [opt_outt]}")
        .replace("any: [opening]", "any: [openin]")
    )
    (tmp_path / "qa.yml").write_text(text)
    errors = [f.message for f in check_rubric(tmp_path)]
    assert errors == [
        "rule 'disclosure_in_full': the script has no prompt (node, global or exit) 'openin'",
        "rule 'opt_out_honoured': the script has no intent 'opt_outt'",
    ]
    assert check_rubric(EN) == []


def test_the_agent_part_is_scored_from_the_hand_off_and_the_wrap_up():
    from voicebot.qa.inspect import AgentView

    rubric = load_rubric(EN).agent
    assert rubric is not None and rubric.rubric == "broadband-en agents"

    def part(**leg) -> CallView:
        facts = {"agent": "alice", "wait_seconds": 6.0, "talk_seconds": 95.0, "wrapped_after": 40.0,
                 "disposition": "sale", "notes": "wants fibre 300"} | leg  # fmt: skip
        return CallView((), 120.0, "callee-hangup", agent=AgentView(**facts))

    good = inspect(rubric, part())
    assert (good.score, good.passed, good.failed_rules) == (10, True, [])
    assert [f.rule for f in good.findings if f.met is None] == [
        "introduced_self", "confirmed_needs", "accurate_promises", "courteous_close",
    ]  # fmt: skip
    slow = inspect(rubric, part(wait_seconds=31.0, wrapped_after=600.0, notes=" ", talk_seconds=9.0))
    assert set(slow.failed_rules) == {"answered_in_time", "wrapped_up_in_time", "notes_written", "heard_out"}
    assert (slow.score, slow.passed) == (4, False)
    evidence = next(f for f in good.findings if f.rule == "answered_in_time").evidence
    assert "alice: waited 6 s, talked 95 s" in evidence[0]
    # no agent took the call: nothing of the agent part holds
    assert set(inspect(rubric, CallView((), 30.0, "callee-hangup")).failed_rules) >= {"answered_in_time"}


def test_a_rule_checking_the_other_part_s_facts_is_an_error(tmp_path):
    text = (EN / "qa.yml").read_text()
    text = text.replace("must: {agent: {notes: true}}", "must: {keywords: {any: [hello]}}")
    text = text.replace("      hangup: {by: bot, waited: false}", "      agent: {answered_within: 5}")
    (tmp_path / "qa.yml").write_text(text)
    errors = [(f.message, f.line) for f in check_rubric(tmp_path / "qa.yml")]
    assert [m for m, _ in errors] == [
        "rule 'waited_for_callee' checks agent: put it in the agent section",
        "agent rule 'notes_written' checks keywords: the agent part has no transcript (check agent:)",
    ], errors
    assert all(line for _, line in errors), errors

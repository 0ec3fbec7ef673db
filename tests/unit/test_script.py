"""The script step as tables: events in, actions out, on the shipped English flow."""

from pathlib import Path

import pytest

from voicebot.dialog.flow import load_flow
from voicebot.dialog.script import (
    Hangup,
    Listen,
    OptOut,
    SayAction,
    ScheduleCallback,
    Script,
    Silence,
    Started,
    State,
    Transfer,
    Understood,
)
from voicebot.errors import ScriptError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def script():
    flow, _ = load_flow(ROOT / "intents/broadband-en/flow.yml")
    return Script(flow)


def run(script, events):
    state, out = State(), []
    for event in events:
        state, actions = script.step(state, event)
        out.append([_short(a) for a in actions])
    return state, out


def _short(action):
    match action:
        case SayAction(prompt, _say, barge_in):
            return f"say {prompt}" + ("" if barge_in else " (no barge-in)")
        case Listen():
            return "listen"
        case Transfer(queue):
            return f"transfer {queue}"
        case Hangup(disposition):
            return f"hangup {disposition}"
        case OptOut():
            return "opt-out"
        case ScheduleCallback(when):
            return f"callback {when}"
    raise AssertionError(action)


def U(intent, **kw):
    return Understood(intent, **kw)


@pytest.mark.parametrize(
    ("events", "expected", "node", "disposition"),
    [
        ([Started()], [["say opening (no barge-in)", "listen"]], "opening", None),
        (
            [Started(), U("interested"), U("affirm")],
            [
                ["say opening (no barge-in)", "listen"],
                ["say offer", "listen"],
                ["say transfer", "transfer agents"],
            ],
            "transfer",
            "transferred",
        ),
        (
            [Started(), U("opt_out")],
            [["say opening (no barge-in)", "listen"], ["say opt_out", "opt-out", "hangup opted_out"]],
            "opening",
            "opted_out",
        ),
        (
            [Started(), U("affirm"), U("ask_identity"), U("ask_price")],
            [
                ["say opening (no barge-in)", "listen"],
                ["say offer", "listen"],
                ["say ask_identity", "listen"],
                ["say objection_price", "listen"],
            ],
            "objection_price",
            None,
        ),
        (
            [Started(), U(None), U(None)],
            [
                ["say opening (no barge-in)", "listen"],
                ["say opening.no_match (no barge-in)", "listen"],
                ["say offer", "listen"],
            ],
            "offer",
            None,
        ),
        (
            [Started(), Silence(), Silence()],
            [
                ["say opening (no barge-in)", "listen"],
                ["say opening.no_input (no barge-in)", "listen"],
                ["say goodbye_no_input", "hangup no_answer"],
            ],
            "goodbye_no_input",
            "no_answer",
        ),
        (
            [Started(), U("busy_call_later", entities={"callback_time": "tomorrow"})],
            [
                ["say opening (no barge-in)", "listen"],
                ["say busy_call_later", "callback tomorrow", "hangup callback"],
            ],
            "opening",
            "callback",
        ),
        (
            [Started(), U("affirm"), U("ask_human")],
            [
                ["say opening (no barge-in)", "listen"],
                ["say offer", "listen"],
                ["say transfer", "transfer agents"],
            ],
            "transfer",
            "transferred",
        ),
    ],
)
def test_conversations(script, events, expected, node, disposition):
    state, actions = run(script, events)
    assert actions == expected
    assert state.node == node and state.disposition == disposition


def test_nothing_happens_after_the_end(script):
    state, _ = run(script, [Started(), U("opt_out")])
    assert script.step(state, U("affirm")) == (state, [])
    assert state.opted_out and state.path == ("opening",)


def test_limits_end_the_call(script):
    events = [Started(at=0.0)] + [U("ask_identity", at=float(i)) for i in range(1, 22)]
    state, actions = run(script, events)
    assert actions[-1] == ["hangup limit"] and state.disposition == "limit"
    state, actions = run(script, [Started(at=0.0), U("ask_identity", at=301.0)])
    assert actions[-1] == ["hangup limit"]


def test_flow_errors_point_at_the_line(tmp_path):
    path = tmp_path / "flow.yml"
    path.write_text("script: x\ncompany: y\nstart: a\nnodes:\n  a:\n    say: hi\n    barge_inn: false\n")
    with pytest.raises(ScriptError) as err:
        load_flow(path)
    assert err.value.line == 7 and "nodes.a.barge_inn: unknown key" in str(err.value)
    path.write_text("script: x\nstart: a\nnodes:\n  a:\n    say: hi\n")
    with pytest.raises(ScriptError, match="company: Field required"):
        load_flow(path)


@pytest.mark.parametrize(
    ("connected", "outcome", "intents", "expected"),
    [
        (True, "transferred", ["interested", "affirm"], "A"),
        (True, "send_info", ["ask_price", "send_info"], "B"),
        (True, "completed", ["need_to_think"], "B"),
        (True, "completed", ["not_interested", "deny"], "C"),
        (True, "opted_out", ["opt_out"], "C"),
        (True, "callback", ["busy_call_later"], "D"),
        (False, None, [], "E"),
        (True, "no_answer", [], "E"),
        (True, "completed", ["wrong_person"], "F"),
    ],
)
def test_default_grades(connected, outcome, intents, expected):
    from voicebot.dialog.grading import grade

    assert grade(connected=connected, outcome=outcome, intents=intents) == expected


def test_grading_rules_from_the_flow_win_in_order():
    from voicebot.dialog.flow import GradeRule
    from voicebot.dialog.grading import grade_by_rules

    rules = (
        GradeRule(grade="A", outcome=("transferred",)),
        GradeRule(grade="A", min_count={"ask_price": 2}),  # asked the price twice: hot lead
        GradeRule(grade="B", reached=("objection_price",), intents_none=("not_interested",)),
        GradeRule(grade="C", min_turns=1, min_seconds=60),
    )
    kw = {"connected": True, "outcome": "completed", "path": ("opening", "offer")}
    assert grade_by_rules(rules, **kw, intents=["ask_price", "ask_price"]) == "A"
    assert (
        grade_by_rules(rules, **{**kw, "path": ("opening", "objection_price")}, intents=["ask_price"]) == "B"
    )
    assert (
        grade_by_rules(
            rules, **{**kw, "path": ("opening", "objection_price")}, intents=["ask_price", "not_interested"]
        )
        == "C"
    )  # falls through to the default scale
    assert grade_by_rules(rules, **kw, intents=["greet"], turns=3, seconds=90) == "C"
    assert grade_by_rules(rules, connected=False, outcome=None, intents=[]) == "E"


def test_branches_on_entities_come_before_intents(script):
    _state, actions = run(
        script, [Started(), U("affirm"), U("already_have", entities={"competitor": "Comcast"})]
    )
    assert actions[-1] == ["say objection_competitor", "listen"]
    _, actions = run(script, [Started(), U("affirm"), U("already_have")])
    assert actions[-1] == ["say objection_already_have", "listen"]


def test_routes_give_intents_that_lead_to_the_same_step_one_key(script):
    routes = script.routes("offer")
    # affirm goes to transfer, and so does the ask_human exit (a plain goto)
    assert routes["affirm"] == routes["interested"] == routes["ask_human"] == "node:transfer"
    # an opt-out says and does its own thing; an intent with an entity branch here depends on it
    assert routes["opt_out"] == "handler:opt_out"
    assert routes["already_have"] == "intent:already_have"
    assert routes["deny"] == routes["not_interested"] == "node:objection_not_interested"
    assert routes["ask_identity"] == "handler:ask_identity"  # a global: answered, then back here
    # at the opening a refusal and a plain no go different ways
    opening = script.routes("opening")
    assert opening["deny"] != opening["not_interested"]

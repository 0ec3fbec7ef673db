"""Quality inspection's records on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.test_dialer import MONDAY_10
from tests.support import Clock


@pytest.fixture
def clock():
    return Clock(MONDAY_10)


def finding(rule: str, met: bool | None) -> dict:
    return {
        "rule": rule,
        "title": rule,
        "met": met,
        "points_lost": 0 if met else 1,
        "fatal": False,
        "evidence": [],
    }


def test_a_call_s_score_is_kept_once_per_rubric_and_failures_are_flagged(store, clock):
    repo = store.quality
    for score in (7.0, 7.0):  # the outbox may replay the write
        repo.add_result(
            "c1", campaign_id="camp", rubric="r", score=score, total=10, passed=False,
            findings=[finding("opening_identifies", False), finding("tone", None)],
        )  # fmt: skip
    clock.now += timedelta(minutes=5)
    repo.add_result("c2", campaign_id="camp", rubric="r", score=10, total=10, passed=True, findings=[])
    repo.add_result("c3", campaign_id="other", rubric="r", score=0, total=10, passed=False, findings=[])
    (c1,) = repo.results("c1")
    assert (c1.score, c1.passed, c1.scored_at) == (7.0, False, MONDAY_10)
    assert [f["met"] for f in c1.findings] == [False, None]
    assert [r.call_id for r in repo.flagged(since=MONDAY_10)] == ["c3", "c1"]  # newest first
    assert [r.call_id for r in repo.flagged(since=MONDAY_10, campaign_id="camp")] == ["c1"]
    assert repo.flagged(since=MONDAY_10 + timedelta(minutes=10)) == []
    # rescored (a rubric fixed): the new score replaces the old
    repo.add_result("c1", campaign_id="camp", rubric="r", score=9.5, total=10, passed=True, findings=[])
    assert [(r.score, r.passed) for r in repo.results("c1")] == [(9.5, True)]

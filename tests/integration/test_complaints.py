"""Complaints on a real database (SQLite and PostgreSQL): received with a due time by severity,
the number on the do-not-call list unless the handler says why not, moved to closure with an
answer, satisfaction after; overdue ones listed; every step audited; `voicebot complaints`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.test_dialer import MONDAY_10, lead, make_campaign
from tests.support import Clock, voicebot_on
from voicebot.errors import ConsoleError
from voicebot.qa import complaints as rules
from voicebot.store import Store


@pytest.fixture
def clock():
    return Clock(MONDAY_10)


def test_a_complaint_is_handled_to_closure_and_blocks_the_number(store, clock):
    make_campaign(store, [lead("1", 1), lead("1", 2)])
    repo = store.campaigns
    serious = repo.complaint_add(
        channel="phone", category="harassment", severity="high", phone="+8613800001001",
        description="called three times today", actor="sue",
    )  # fmt: skip
    assert (serious.state, serious.escalated, serious.blocked) == ("received", True, True)
    assert serious.due_at == MONDAY_10 + timedelta(hours=24)
    assert {x.phone: x.status for x in repo.leads("c1")}["+8613800001001"] == "dnc"  # not dialed again
    kept = repo.complaint_add(
        channel="email", category="misleading", severity="low", phone="+8613800001002",
        description="the price was wrong", keep_calling="the callee wants the corrected offer", actor="sue",
    )  # fmt: skip
    assert (kept.escalated, kept.blocked) == (False, False)
    assert {x.phone: x.status for x in repo.leads("c1")}["+8613800001002"] == "pending"
    with pytest.raises(ConsoleError, match="against a call, a number or an agent"):
        repo.complaint_add(channel="web", category="rude", severity="low", description="x", actor="sue")
    with pytest.raises(ConsoleError, match="no severity"):
        repo.complaint_add(
            channel="web", category="rude", severity="huge", agent="bob", description="x", actor="s"
        )
    clock.now += timedelta(hours=30)  # a day and more: the serious one is overdue, the low one not
    assert [c.id for c in repo.complaints_overdue()] == [serious.id]
    assert [c.id for c in repo.complaints(open_only=True)] == [serious.id, kept.id]  # soonest due first
    repo.complaint_move(serious.id, "investigating", actor="tom")
    with pytest.raises(ConsoleError, match="write the answer"):
        repo.complaint_move(serious.id, "closed", actor="tom")
    with pytest.raises(ConsoleError, match="after a complaint is closed"):
        repo.complaint_satisfaction(serious.id, 4, actor="tom")
    closed = repo.complaint_move(serious.id, "closed", actor="tom", answer="apologized; number blocked")
    assert (closed.state, closed.handler, closed.closed_at) == ("closed", "tom", clock.now)
    with pytest.raises(ConsoleError, match="closed cannot be investigating"):
        repo.complaint_move(serious.id, "investigating", actor="tom")
    assert repo.complaint_satisfaction(serious.id, 4, actor="tom").satisfaction == 4
    assert repo.complaints_overdue() == []
    actions = [(a.actor, a.action) for a in repo.audit() if a.action.startswith("complaint")]
    assert sorted(actions) == sorted(
        [
            ("sue", "complaint_received"),
            ("sue", "complaint_received"),
            ("sue", "complaint_keep_calling"),
            ("tom", "complaint_investigating"),
            ("tom", "complaint_closed"),
            ("tom", "complaint_satisfaction"),
        ]
    )
    late = next(a for a in repo.audit() if a.action == "complaint_closed")
    assert late.detail["late"] is True


def test_due_times_and_moves_follow_the_rules():
    assert rules.escalated("critical") and not rules.escalated("medium")
    assert rules.check_move("received", "closed") is None
    assert rules.check_move("answered", "reopened") == (
        "'reopened' is no state (one of received, investigating, answered, closed)"
    )
    assert rules.check_move("closed", "answered") == "a complaint that is closed cannot be answered"
    assert rules.due_at(MONDAY_10, "critical") == MONDAY_10 + timedelta(hours=4)


def test_voicebot_complaints(tmp_path, db_url, clock):
    store = Store(db_url, clock=clock)
    store.migrate()
    store.close()
    voicebot = voicebot_on(db_url, tmp_path / "data")
    added = voicebot(
        "complaints", "add", "--channel", "regulator", "--category", "calling_hours",
        "--severity", "critical", "--phone", "+8613800001003", "--description", "called at 22:30",
    )  # fmt: skip
    assert added.returncode == 0 and "critical" in added.stdout and "escalated" in added.stdout, added.stderr
    assert voicebot("dnc", "check", "+8613800001003").returncode == 1  # on the list: not to be called
    listed = voicebot("complaints", "list", "--open")
    assert "calling_hours" in listed.stdout and "1 complaint(s)" in listed.stdout
    refused = voicebot("complaints", "move", "1", "closed")
    assert (
        refused.returncode == 1 and "write the answer" in refused.stderr and "Traceback" not in refused.stderr
    )
    assert voicebot("complaints", "move", "1", "closed", "--answer", "apologized").returncode == 0
    assert voicebot("complaints", "satisfaction", "1", "5").returncode == 0
    # each center its own categories ([complaints] categories)
    unknown = voicebot(
        "complaints", "add", "--channel", "phone", "--category", "billing", "--severity", "low",
        "--phone", "+8613800001004", "--description", "charged twice",
    )  # fmt: skip
    assert unknown.returncode == 1 and "'billing' is no category" in unknown.stderr, unknown.stderr
    (tmp_path / "center.toml").write_text('[complaints]\ncategories = ["billing", "rude", "other"]\n')
    ours = voicebot(
        "--config", str(tmp_path / "center.toml"), "complaints", "add", "--channel", "phone",
        "--category", "billing", "--severity", "low", "--phone", "+8613800001004",
        "--description", "charged twice",
    )  # fmt: skip
    assert ours.returncode == 0, ours.stderr

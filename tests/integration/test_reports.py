"""Reports from a real database (SQLite and PostgreSQL): calls, transfers taken and abandoned,
agents' wrap-ups and inspection scores become rows per campaign and period, the script funnel
and the agents' table; `voicebot report` prints them and writes CSV and Excel files."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.support import Clock, voicebot_on
from voicebot.reports.tables import agent_rows, campaign_rows, funnel
from voicebot.store import CallRecord, Store

SH = ZoneInfo("Asia/Shanghai")
#: Monday 1 December 2026, 10:00 in Shanghai.
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=SH)


@pytest.fixture
def clock():
    return Clock(MONDAY)


def a_call(store: Store, call_id: str, at: datetime, **fields) -> None:
    store.create_call_sync(
        CallRecord(id=call_id, destination="+8613800138000", campaign_id="c1", created_at=at)
    )
    if fields:
        store.update_call_sync(call_id, fields)


def fill(store: Store) -> None:
    """Four calls on Monday, one on Tuesday (Shanghai days), one of another campaign."""
    answered = {"disposition": "answered", "completed_at": MONDAY}
    a_call(store, "m1", MONDAY, talk_seconds=25, grade="A", outcome="transferred",
           node_path=["opening", "offer", "transfer"], **answered)  # fmt: skip
    a_call(store, "m2", MONDAY + timedelta(minutes=1), talk_seconds=75, grade="B", outcome="transferred",
           node_path=["opening", "offer", "transfer"], end_reason="callee-hangup", **answered)  # fmt: skip
    a_call(store, "m3", MONDAY + timedelta(minutes=2), talk_seconds=200, grade="C", outcome="opted_out",
           opted_out=True, node_path=["opening", "opt_out"], **answered)  # fmt: skip
    a_call(store, "m4", MONDAY + timedelta(minutes=3), disposition="busy", completed_at=MONDAY)
    # 23:30 UTC Monday is 07:30 Tuesday in Shanghai
    a_call(store, "t1", datetime(2026, 11, 30, 23, 30, tzinfo=UTC), talk_seconds=40, grade="D",
           outcome="completed", node_path=["opening", "goodbye"], end_reason="callee-hangup",
           **answered)  # fmt: skip
    store.create_call_sync(
        CallRecord(id="x1", destination="+8613800138001", campaign_id="c2", created_at=MONDAY)
    )
    # m1: an agent took it 1.2 s after the bridging line; m2: the first agent declined, the second
    # picked up after 9 s: abandoned (the limit is 2 s)
    for call_id, whispers in (("m1", [("accept", 1.2)]), ("m2", [("decline", 1.0), ("accept", 9.0)])):
        store.add_event_sync(call_id, "transfer", {"queue": "q"}, MONDAY)
        for decision, waited in whispers:
            store.add_event_sync(call_id, "whisper", {"decision": decision, "waited": waited}, MONDAY)
    alice = store.console.add_user("alice", role="agent", password_hash="x", interface="PJSIP/a", actor="t")
    h = store.console.offered("m1", interface="PJSIP/a", queue="q", wait_seconds=1.2)
    store.console.answered("m1", interface="PJSIP/a", wait_seconds=1.2, ring_seconds=1.0)
    store.console.completed("m1", interface="PJSIP/a", talk_seconds=60)
    store.console.wrap_up(
        h.id, user_id=alice.id, username="alice", disposition="sale", grade="A", fields={}, notes="",
        callback_at=None, callback_user_id=None, lead_id=None, lead_status="done", lead_next_at=None,
        lead_reason="sale",
    )  # fmt: skip
    store.campaigns.complaint_add(
        channel="phone", category="harassment", severity="low", phone="+8613800138000", call_id="m3",
        campaign_id="c1", description="too many calls", actor="t",
    )  # fmt: skip
    for call_id, score, passed in (("m1", 10.0, True), ("m2", 9.0, True), ("m3", 6.0, False)):
        store.quality.add_result(
            call_id, campaign_id="c1", rubric="r", score=score, total=10, passed=passed, findings=[]
        )


def test_calls_become_rows_by_campaign_and_day(store):
    fill(store)
    facts, ended_by = store.reports.call_facts(MONDAY - timedelta(days=1), MONDAY + timedelta(days=7))
    assert {f.call_id: f.transfer_taken for f in facts if f.transfer_taken is not None} == {
        "m1": True,
        "m2": False,
    }
    complaints = store.reports.complaint_facts(MONDAY - timedelta(days=1), MONDAY + timedelta(days=7))
    monday, other, tuesday = campaign_rows(facts, "day", SH, complaints)  # by period, then campaign
    assert (monday.complaints, monday.complaint_rate) == (1, 1 / 3)
    assert (monday.period, monday.campaign_id, tuesday.period, other.campaign_id) == (
        "2026-11-30", "c1", "2026-12-01", "c2",
    )  # fmt: skip
    assert (monday.attempts, monday.answered, monday.connect_rate) == (4, 3, 0.75)
    assert monday.talk_buckets() == {"<30s": 1, "30-60s": 0, "1-3m": 1, "3m+": 1}
    assert dict(monday.grades) == {"A": 1, "B": 1, "C": 1}
    assert (monday.transfers, monday.abandoned, monday.abandon_rate) == (2, 1, 0.5)
    assert (monday.agent_calls, monday.sales, monday.conversion) == (1, 1, 1.0)
    assert (monday.opted_out, monday.inspected, monday.qa_passed) == (1, 3, 2)
    assert monday.qa_average == pytest.approx(25 / 3)
    (week,) = [r for r in campaign_rows(facts, "week", SH) if r.campaign_id == "c1"]
    assert (week.period, week.attempts) == ("2026-W49", 5)
    steps = {s.node: (s.reached, s.left, s.ended_by_callee) for s in funnel(facts, ended_by)}
    assert steps == {
        "opening": (4, 0, 0),
        "offer": (2, 0, 0),
        "transfer": (2, 2, 1),
        "opt_out": (1, 1, 0),
        "goodbye": (1, 1, 1),
    }
    inspected = store.inspections
    inspected.enqueue("c1", "2026-W49", [("m1", "signup")], actor="t")
    inspected.score(inspected.queue()[0].id, inspector="qa1", score=8, passed=False, items={}, comment="")
    store.campaigns.complaint_add(
        channel="phone", category="rude", severity="medium", agent="alice", description="rude", actor="t"
    )
    assert store.reports.agent_quality(MONDAY - timedelta(days=1), MONDAY + timedelta(days=1)) == (
        {"alice": [8.0]},
        {"alice": 1},
    )
    (alice,) = agent_rows(
        store.reports.agent_facts(MONDAY - timedelta(days=1), MONDAY + timedelta(days=1)), "day", SH
    )
    assert (alice.agent, alice.offered, alice.answered, alice.talk, alice.conversion) == (
        "alice",
        1,
        1,
        60,
        1.0,
    )


def test_voicebot_report_prints_and_writes_csv_and_excel(tmp_path, db_url, clock):
    store = Store(db_url, clock=clock)
    store.migrate()
    try:
        fill(store)
    finally:
        store.close()
    voicebot = voicebot_on(db_url, tmp_path / "data")
    out = voicebot(
        "report", "--since", "2026-11-30", "--until", "2026-12-06", "--by", "week", "--funnel", "--agents",
        "--csv", str(tmp_path / "r.csv"), "--xlsx", str(tmp_path / "r.xlsx"),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "2026-W49   c1" in out.stdout and "opening" in out.stdout and "alice" in out.stdout, out.stdout
    assert "scorecards (volume 30%" in out.stdout
    with open(tmp_path / "r.csv", encoding="utf-8") as f:
        rows = {r["campaign"]: r for r in csv.DictReader(f)}
    assert (rows["c1"]["attempts"], rows["c1"]["abandoned"], rows["c1"]["grade_A"]) == ("5", "1", "1")
    assert rows["c1"]["complaints"] == "1"
    book = load_workbook(tmp_path / "r.xlsx", read_only=True)
    assert book.sheetnames == ["campaigns", "funnel", "agents", "scorecards"]
    funnel_rows = list(book["funnel"].iter_rows(values_only=True))
    assert funnel_rows[0] == ("node", "reached", "ended_here", "callee_hung_up") and funnel_rows[1][:2] == (
        "opening",
        4,
    )
    # the weekly report for a scheduler, run on Saturday 5 December: the seven days before, in PDF,
    # Excel and CSV named by its days; the PDF's text reads back
    weekly = voicebot("report", "weekly", "--today", "2026-12-05", "--out", str(tmp_path / "weekly"))
    assert weekly.returncode == 0, weekly.stderr
    assert "2026-11-28 to 2026-12-04 (Asia/Shanghai), by day: all campaigns: 6 calls" in weekly.stdout
    stem = tmp_path / "weekly/voicebot-weekly-all-2026-11-28_2026-12-04"
    assert load_workbook(stem.with_suffix(".xlsx"), read_only=True).sheetnames[0] == "campaigns"
    with open(stem.with_suffix(".csv"), encoding="utf-8") as f:
        days = [(r["period"], r["campaign"], r["attempts"]) for r in csv.DictReader(f)]
    assert days == [("2026-11-30", "c1", "4"), ("2026-11-30", "c2", "1"), ("2026-12-01", "c1", "1")]
    text = " ".join(page.extract_text() for page in PdfReader(stem.with_suffix(".pdf")).pages)
    assert "2026-11-28 to 2026-12-04" in text and "Script funnel" in text, text
    assert "2026-11-30" in text and "opt_out" in text and "alice" in text, text
    assert "66.7%" in text  # c1 on Monday: 2 of 3 answered calls transferred
    # a scheduled report sets its own days
    both = voicebot("report", "monthly", "--since", "2026-11-01")
    assert both.returncode == 2 and "sets its own days" in both.stderr
    bad = voicebot("report", "--since", "30/11/2026")
    assert bad.returncode == 2 and "not a date" in bad.stderr and "Traceback" not in bad.stderr


def test_the_console_shows_the_report_with_charts_and_exports_it_audited(tmp_path, db_url, clock):
    import io
    import re

    from starlette.testclient import TestClient

    from tests.unit.test_console_logic import FakeMembers
    from tests.unit.test_console_web import PASSWORD, log_in
    from voicebot.config import load_settings
    from voicebot.console import auth
    from voicebot.console.desk import Desk
    from voicebot.console.web import Console

    store = Store(db_url, clock=clock)
    store.migrate()
    try:
        fill(store)
        for name, role in (("sue", "supervisor"), ("cora", "compliance")):
            store.console.add_user(
                name, role=role, password_hash=auth.hash_password(PASSWORD), interface=None, actor="t"
            )
        store.console.set_password("alice", auth.hash_password(PASSWORD), actor="t")
        console = Console(store, Desk(store, FakeMembers()), load_settings(None, data_dir=tmp_path / "data"))  # type: ignore[arg-type]
        with TestClient(console.app, follow_redirects=False) as client:
            log_in(client, "alice")
            assert client.get("/reports").status_code == 403  # an agent reads no reports
            assert 'href="/reports"' not in client.get("/agent").text
            client.cookies.clear()
            log_in(client, "sue")
            page = client.get(
                "/reports", params={"campaign": "c1", "since": "2026-11-30", "until": "2026-12-01"}
            )
            assert page.status_code == 200, page.text
            assert 'href="/reports" class="here"' in page.text  # the menu
            rows = re.findall(
                r'<tr data-period="([^"]+)" data-campaign="([^"]+)">\s*'
                r"<td>[^<]*</td><td>[^<]*</td><td>(\d+)</td><td>([^<]*)</td>",
                page.text,
            )
            assert rows == [("2026-11-30", "c1", "4", "75.0%"), ("2026-12-01", "c1", "1", "100.0%")], rows
            # the charts: a bar per grade of Monday's answered calls, the QA pass rate, the funnel
            assert (
                "<title>2026-11-30: A 1</title>" in page.text
                and "<title>2026-11-30: C 1</title>" in page.text
            )
            assert "<title>2026-11-30: 67% of 3</title>" in page.text
            assert re.search(r"<title>opening: 4 · 0 ended here</title>", page.text), page.text
            assert ">alice</td>" in page.text and "volume 30%" in page.text
            assert (
                client.get("/reports", params={"since": "2026-01-01", "until": "2026-12-01"}).status_code
                == 400
            )
            assert client.get("/reports", params={"by": "year"}).status_code == 400
            link = "/reports/export.{}?by=day&since=2026-11-30&until=2026-12-01&campaign=c1"
            got = {kind: client.get(link.format(kind)) for kind in ("csv", "xlsx", "pdf")}
            assert client.get(link.format("exe")).status_code == 404
        assert all(r.status_code == 200 for r in got.values()), got
        assert got["csv"].text.splitlines()[1].startswith("2026-11-30,c1,4,3,0.75")
        assert 'filename="voicebot-c1-2026-11-30_2026-12-01.pdf"' in got["pdf"].headers["content-disposition"]
        book = load_workbook(io.BytesIO(got["xlsx"].content), read_only=True)
        assert [row[:3] for row in book["campaigns"].iter_rows(values_only=True)][1] == (
            "2026-11-30",
            "c1",
            4,
        )
        pdf = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(got["pdf"].content)).pages)
        assert "campaign c1" in pdf and "Script funnel" in pdf and "alice" in pdf, pdf
        exports = store.campaigns.audit(action="report_export")
        assert sorted(e.reason.split()[0] for e in exports) == ["csv", "pdf", "xlsx"]
        assert {(e.actor, e.campaign_id) for e in exports} == {("sue", "c1")}
    finally:
        store.close()

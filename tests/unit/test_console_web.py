"""The console's HTTP side on a real SQLite store (queues faked: the agent screens' real path is
tests/integration/test_console_browser.py): CSRF on every form, roles, throttled logins,
headers, bounded requests."""

from __future__ import annotations

import asyncio
import re

import pytest
from starlette.testclient import TestClient

from tests.unit.test_console_logic import FakeMembers
from voicebot.config import load_settings
from voicebot.console import auth
from voicebot.console.desk import Desk
from voicebot.console.web import Console, as_user
from voicebot.store import Store

PASSWORD = "correct horse battery"


@pytest.fixture
def client(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.migrate()
    for name, role in (("alice", "agent"), ("sue", "supervisor")):
        store.console.add_user(
            name,
            role=role,
            password_hash=auth.hash_password(PASSWORD),
            interface="PJSIP/alice" if role == "agent" else None,
            queues=("q",) if role == "agent" else (),
            actor="t",
        )
    settings = load_settings(None, data_dir=tmp_path / "data")
    console = Console(store, Desk(store, FakeMembers()), settings)  # type: ignore[arg-type]
    with TestClient(console.app, follow_redirects=False) as c:
        c.store = store
        yield c
    store.close()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def log_in(client, username: str, password: str = PASSWORD):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf": token, "username": username, "password": password})


def test_a_login_opens_the_role_s_page_and_logout_ends_it(client):
    response = log_in(client, "sue")
    assert response.status_code == 303 and auth.SESSION_COOKIE in response.cookies
    page = client.get("/", follow_redirects=True)
    assert page.url.path == "/supervisor"
    assert client.get("/agent").status_code == 403  # a supervisor has no agent screen
    client.post("/logout", data={"csrf": csrf_of(page.text)})
    assert client.get("/supervisor", follow_redirects=False).headers["location"] == "/login"
    actions = [(e.actor, e.action) for e in client.store.campaigns.audit()]
    assert ("sue", "login") in actions and ("sue", "logout") in actions


def test_every_form_needs_the_login_s_csrf_token(client):
    token = csrf_of(client.get("/login").text)
    assert (
        client.post("/login", data={"csrf": "forged", "username": "sue", "password": PASSWORD}).status_code
        == 403
    )
    assert client.post("/login", data={"username": "sue", "password": PASSWORD}).status_code == 403
    log_in(client, "alice")
    assert client.post("/agent/state", data={"state": "ready"}).status_code == 403
    assert client.post("/agent/state", data={"state": "ready", "csrf": token}).status_code == 403  # not hers
    agent_page = client.get("/agent")
    assert (
        client.post("/agent/state", data={"state": "ready", "csrf": csrf_of(agent_page.text)}).status_code
        == 303
    )
    assert (
        client.post(
            "/campaigns/x/state", data={"state": "paused", "csrf": csrf_of(agent_page.text)}
        ).status_code
        == 403
    )


def test_failed_logins_are_audited_and_throttled(client):
    for _ in range(5):
        assert log_in(client, "sue", "wrong password!").status_code == 401
    assert log_in(client, "sue").status_code == 429  # even the right password waits a minute
    assert log_in(client, "nobody", "whatever password").status_code == 429
    failed = [e for e in client.store.campaigns.audit() if e.action == "login_failed"]
    assert len(failed) == 5 and {e.actor for e in failed} == {"sue"}


def test_pages_say_no_caching_no_framing_no_foreign_scripts(client):
    response = client.get("/login")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_requests_are_bounded(client):
    big = "x" * (70 * 1024)
    assert (
        client.post(
            "/login", content=big, headers={"content-type": "application/x-www-form-urlencoded"}
        ).status_code
        == 413
    )
    assert client.get("/calls/not-a-call-id").status_code in (303, 404)


def test_the_console_speaks_chinese_to_a_chinese_browser(client):
    page = client.get("/login", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert "登录" in page.text and 'lang="zh-CN"' in page.text


def test_an_agent_s_follow_ups_are_her_callbacks_anyone_s_and_her_open_a_b_leads(client):
    from datetime import UTC, datetime, timedelta

    from voicebot.campaign.leads import ImportedLead
    from voicebot.store import CallRecord

    store = client.store
    repo = store.campaigns
    repo.save_campaign("c", "C", {"id": "c"}, "t")
    rows = [
        ImportedLead(line=2 + n, phone=f"+86138000010{n:02d}", name=f"lead {n}", timezone="Asia/Shanghai")
        for n in range(4)
    ]
    repo.import_leads("c", rows, "leads.csv", "t")
    leads = {lead.name: lead for lead in repo.leads("c")}
    alice = store.console.user("alice")
    bob = store.console.add_user(
        "bob", role="agent", password_hash=auth.hash_password(PASSWORD), interface="PJSIP/bob", actor="t"
    )
    soon = datetime.now(UTC) + timedelta(days=1)

    def handed(name: str, agent, *, callback_for=None, grade=None, status="agent"):
        call_id = f"00000000-0000-4000-8000-0000000000{leads[name].id:02d}"
        store.create_call_sync(
            CallRecord(
                id=call_id, destination=leads[name].phone, lead_id=str(leads[name].id), campaign_id="c"
            )
        )
        h = store.console.offered(call_id, interface=agent.interface, queue="q", wait_seconds=1)
        store.console.wrap_up(
            h.id,
            user_id=agent.id,
            username=agent.username,
            disposition="callback" if callback_for is not False else "sale",
            grade=grade,
            fields={},
            notes="",
            callback_at=soon if callback_for is not False else None,
            callback_user_id=callback_for,
            lead_id=leads[name].id,
            lead_status=status,
            lead_next_at=None,
            lead_reason="",
        )

    handed("lead 0", alice, callback_for=alice.id)  # hers
    handed("lead 1", bob, callback_for=None)  # any agent's
    handed("lead 2", bob, callback_for=bob.id)  # bob's own: not hers
    handed("lead 3", alice, callback_for=False, grade="A", status="pending")  # her A lead, still open
    log_in(client, "alice")
    page = client.get("/agent").text
    assert "lead 0" in page and "lead 1" in page and "lead 3" in page and "lead 2" not in page
    ups = store.console.follow_ups(alice.id)
    assert [(f.name, f.mine) for f in ups] == [("lead 0", True), ("lead 1", False), ("lead 3", False)]


def test_a_call_page_shows_an_inbound_call_and_its_inspection(client):
    from voicebot.store import CallRecord

    call_id = "1733212345.67"  # an inbound call's id is its Asterisk linkedid
    client.store.create_call_sync(CallRecord(id=call_id, destination="+8613800138000", direction="inbound"))
    failed = {
        "rule": "opening_identifies",
        "title": "The opening names the company",
        "met": False,
        "points_lost": 2,
        "fatal": False,
        "evidence": [],
    }
    ok = {
        **failed,
        "rule": "within_length",
        "title": "Within its length limit",
        "met": True,
        "points_lost": 0,
    }
    client.store.quality.add_result(
        call_id, campaign_id=None, rubric="r", score=8, total=10, passed=False, findings=[failed, ok]
    )
    log_in(client, "sue")
    page = client.get(f"/calls/{call_id}")
    assert page.status_code == 200 and "Calling back" in page.text
    assert "8/10 fail" in page.text and "The opening names the company (-2)" in page.text
    assert "Within its length limit" not in page.text  # only the rules the call failed
    assert client.get("/calls/1733212345.67;x").status_code == 404


def test_a_recording_plays_and_downloads_for_those_who_may_see_the_call_audited(tmp_path):
    from voicebot.media.wavfile import write_call_audio
    from voicebot.store import CallRecord

    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.migrate()
    for name, role in (("alice", "agent"), ("sue", "supervisor")):
        store.console.add_user(
            name, role=role, password_hash=auth.hash_password(PASSWORD), interface=None, queues=(), actor="t"
        )
    settings = load_settings(None, data_dir=tmp_path / "data", pbx_root=tmp_path / "pbx")
    call_id, forged = "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e", "1733212345.67"
    pcm = bytes(range(256)) * 64
    write_call_audio(settings.recording_path(f"voicebot/{call_id}.wav"), pcm)
    store.create_call_sync(
        CallRecord(id=call_id, destination="+8613800138000", recording=f"voicebot/{call_id}.wav")
    )
    store.create_call_sync(
        CallRecord(id=forged, destination="+8613800138000", recording="../../../etc/passwd")
    )
    console = Console(store, Desk(store, FakeMembers()), settings)  # type: ignore[arg-type]
    with TestClient(console.app, follow_redirects=False) as client:
        log_in(client, "sue")
        page = client.get(f"/calls/{call_id}")
        assert f'<audio controls preload="none" src="/calls/{call_id}/recording">' in page.text
        played = client.get(f"/calls/{call_id}/recording")
        assert played.status_code == 200 and played.headers["content-type"] == "audio/wav"
        assert played.content == settings.recording_path(f"voicebot/{call_id}.wav").read_bytes()
        more = client.get(f"/calls/{call_id}/recording", headers={"range": "bytes=1000-"})
        assert more.status_code == 206 and more.content == played.content[1000:]
        saved = client.get(f"/calls/{call_id}/recording?download=1")
        assert (
            saved.headers["content-disposition"].startswith("attachment") and saved.content == played.content
        )
        assert client.get(f"/calls/{forged}/recording").status_code == 404  # outside the monitor directory
        client.post("/logout", data={"csrf": csrf_of(page.text)})
        log_in(client, "alice")  # an agent the call was not handed to
        assert client.get(f"/calls/{call_id}/recording").status_code == 403
    actions = [(e.actor, e.action) for e in store.campaigns.audit() if e.call_id == call_id]
    assert sorted(actions) == [
        ("alice", "recording_play_denied"),
        ("sue", "call_view"),
        ("sue", "recording_download"),
        ("sue", "recording_play"),  # once: the player's further ranges are the same play
    ]
    store.close()


def test_an_inspector_scores_an_agent_disputes_and_another_inspector_signs_off(tmp_path):
    from voicebot.store import CallRecord

    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.migrate()
    users = {}
    for name, role in (("qa1", "qa"), ("qa2", "qa"), ("alice", "agent"), ("bob", "agent")):
        users[name] = store.console.add_user(
            name, role=role, password_hash=auth.hash_password(PASSWORD),
            interface=f"PJSIP/{name}" if role == "agent" else None, queues=(), actor="t",
        )  # fmt: skip
    call_id = "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"
    store.create_call_sync(CallRecord(id=call_id, destination="+8613800138000", campaign_id="c1"))
    store.console.offered(call_id, interface="PJSIP/alice", queue="q", wait_seconds=1.0)  # handed to alice
    findings = [
        {
            "rule": "opening_identifies",
            "title": "Opening",
            "met": False,
            "points_lost": 2,
            "points": 2,
            "fatal": False,
        },
        {
            "rule": "opt_out_honoured",
            "title": "Opt-out",
            "met": True,
            "points_lost": 0,
            "points": 0,
            "fatal": True,
        },
        {
            "rule": "tone_and_clarity",
            "title": "Tone",
            "met": None,
            "points_lost": 0,
            "points": 1,
            "fatal": False,
        },
    ]
    store.quality.add_result(
        call_id, campaign_id="c1", rubric="r", score=8, total=10, passed=False, findings=findings
    )
    store.inspections.enqueue("c1", "2026-W49", [(call_id, "flagged")], actor="t")
    (queued,) = store.inspections.queue()
    settings = load_settings(None, data_dir=tmp_path / "data")
    console = Console(store, Desk(store, FakeMembers()), settings)  # type: ignore[arg-type]

    def as_(client, name):
        client.cookies.clear()
        log_in(client, name)
        page = client.get(f"/qa/{queued.id}")
        return page, csrf_of(page.text) if page.status_code == 200 else None

    with TestClient(console.app, follow_redirects=False) as client:
        page, csrf = as_(client, "qa1")
        assert client.get("/").headers["location"] == "/qa"
        assert f'href="/qa/{queued.id}"' in client.get("/qa").text
        assert 'name="lost_opening_identifies" value="2"' in page.text  # the automatic item pre-filled
        url = f"/qa/{queued.id}/score"
        too_much = client.post(url, data={"csrf": csrf, "lost_tone_and_clarity": "3", "verdict": "fail"})
        assert too_much.status_code == 400 and "between 0 and 1 points" in too_much.text
        no_verdict = client.post(url, data={"csrf": csrf, "lost_opening_identifies": "2"})
        assert no_verdict.status_code == 400 and "pass or fail" in no_verdict.text
        form = {"csrf": csrf, "lost_opening_identifies": "2", "lost_tone_and_clarity": "1", "verdict": "fail"}
        assert client.post(url, data={**form, "comment": "no company name"}).status_code == 303
        scored = store.inspections.get(queued.id)
        assert (scored.state, scored.score, scored.passed, scored.inspector) == ("scored", 7, False, "qa1")
        page, _ = as_(client, "bob")  # not his call
        assert page.status_code == 403
        page, csrf = as_(client, "alice")  # her call: she may dispute, not score
        assert 'id="dispute-form"' in page.text and 'id="score-form"' not in page.text
        assert client.post(url, data={**form, "csrf": csrf}).status_code == 403
        disputed = client.post(
            f"/qa/{queued.id}/dispute", data={"csrf": csrf, "reason": "I named the company"}
        )
        assert disputed.status_code == 303
        page, csrf = as_(client, "qa1")
        refused = client.post(f"/qa/{queued.id}/settle", data={"csrf": csrf, "verdict": "pass"})
        assert refused.status_code == 400 and "someone other than the inspector" in refused.text
        page, csrf = as_(client, "qa2")
        settle = {"csrf": csrf, "verdict": "pass", "comment": "the recording has it"}
        assert client.post(f"/qa/{queued.id}/settle", data=settle).status_code == 303
    done = store.inspections.get(queued.id)
    assert (done.state, done.passed, done.settled_by) == ("settled", True, "qa2")
    actions = [(a.actor, a.action) for a in store.campaigns.audit() if a.call_id == call_id]
    assert ("bob", "call_view_denied") in actions
    assert [a for a in actions if a[1].startswith("inspection_") and a[1] != "inspection_sampled"] == [
        ("qa1", "inspection_scored"),
        ("alice", "inspection_disputed"),
        ("qa2", "inspection_settled"),
    ]
    store.close()


def test_compliance_staff_record_complaints_and_handle_them_to_closure(tmp_path):
    from datetime import UTC, datetime, timedelta

    from tests.support import Clock

    clock = Clock(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}", clock=clock)
    store.migrate()
    for name, role in (("cora", "compliance"), ("alice", "agent")):
        store.console.add_user(
            name, role=role, password_hash=auth.hash_password(PASSWORD), interface=None, queues=(), actor="t"
        )
    console = Console(store, Desk(store, FakeMembers()), load_settings(None, data_dir=tmp_path / "data"))  # type: ignore[arg-type]
    with TestClient(console.app, follow_redirects=False) as client:
        log_in(client, "alice")
        assert client.get("/complaints").status_code == 403
        client.cookies.clear()
        log_in(client, "cora")
        csrf = csrf_of(client.get("/complaints").text)
        form = {"csrf": csrf, "channel": "regulator", "category": "calling_hours", "severity": "critical",
                "description": "called at 22:30", "phone": "138 0013 8000"}  # fmt: skip
        bad = client.post("/complaints", data={**form, "phone": "12345"})
        assert bad.status_code == 400 and "not a valid CN number" in bad.text
        assert client.post("/complaints", data=form).status_code == 303
        (complaint,) = store.campaigns.complaints()
        assert (complaint.phone, complaint.blocked, complaint.escalated) == ("+8613800138000", True, True)
        assert [e.reason for e in store.campaigns.dnc_check("+8613800138000")] == [
            "complaint 1: calling_hours"
        ]
        clock.now += timedelta(hours=5)  # a critical complaint is due in 4 hours
        client.cookies.clear()
        log_in(client, "cora")  # (her login had expired: 30 minutes idle)
        page = client.get("/complaints")
        csrf = csrf_of(page.text)
        assert f'id="complaint-{complaint.id}" class="red-row"' in page.text and "overdue" in page.text
        move = f"/complaints/{complaint.id}"
        no_answer = client.post(move, data={"csrf": csrf, "state": "closed"})
        assert no_answer.status_code == 400 and "write the answer" in no_answer.text
        assert (
            client.post(move, data={"csrf": csrf, "state": "closed", "answer": "apologized"}).status_code
            == 303
        )
        assert client.post(move, data={"csrf": csrf, "satisfaction": "4"}).status_code == 303
    (done,) = store.campaigns.complaints()
    assert (done.state, done.satisfaction, done.handler) == ("closed", 4, "cora")
    assert not done.overdue(clock.now)
    store.close()


def test_a_failed_call_opens_follow_ups_for_the_script_the_agent_and_a_callback(tmp_path):
    from voicebot.campaign.leads import ImportedLead
    from voicebot.console.preview import PreviewCalls
    from voicebot.errors import ConsoleError
    from voicebot.store import CallRecord

    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.migrate()
    for name, role in (("qa1", "qa"), ("alice", "agent"), ("bob", "agent")):
        store.console.add_user(
            name, role=role, password_hash=auth.hash_password(PASSWORD),
            interface=f"PJSIP/{name}" if role == "agent" else None, queues=(), actor="t",
        )  # fmt: skip
    store.campaigns.save_campaign("c1", "C1", {"id": "c1"}, "t")
    store.campaigns.import_leads(
        "c1",
        [ImportedLead(line=2, phone="+8613800138000", name="Li Lei", timezone="Asia/Shanghai")],
        "l",
        "t",
    )
    (lead,) = store.campaigns.leads("c1")
    calls = {"taken": "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e", "robot": "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4f"}
    store.create_call_sync(
        CallRecord(id=calls["taken"], destination=lead.phone, lead_id=str(lead.id), campaign_id="c1")
    )
    store.create_call_sync(CallRecord(id=calls["robot"], destination="+8613800138001", campaign_id="c1"))
    store.console.offered(calls["taken"], interface="PJSIP/alice", queue="q", wait_seconds=1.0)
    store.console.answered(calls["taken"], interface="PJSIP/alice", wait_seconds=1.0, ring_seconds=1.0)
    for call_id in calls.values():
        store.quality.add_result(
            call_id, campaign_id="c1", rubric="r", score=6, total=10, passed=False, findings=[]
        )
    store.inspections.enqueue("c1", "2026-W49", [(c, "flagged") for c in calls.values()], actor="t")
    ids = {i.call_id: i.id for i in store.inspections.queue()}
    taken, robot = ids[calls["taken"]], ids[calls["robot"]]
    console = Console(store, Desk(store, FakeMembers()), load_settings(None, data_dir=tmp_path / "data"))  # type: ignore[arg-type]

    def as_(client, name, page):
        client.cookies.clear()
        log_in(client, name)
        got = client.get(page)
        return got, csrf_of(got.text)

    with TestClient(console.app, follow_redirects=False) as client:
        page, csrf = as_(client, "qa1", f"/qa/{taken}")
        assert 'id="follow-up-form"' not in page.text  # not scored yet
        for inspection in (taken, robot):
            form = {"csrf": csrf, "verdict": "fail", "comment": "pushy"}
            assert client.post(f"/qa/{inspection}/score", data=form).status_code == 303
        page = client.get(f"/qa/{taken}")
        assert 'id="follow-up-form"' in page.text
        opened = [
            client.post(f"/qa/{taken}/follow-up", data={"csrf": csrf, "kind": kind, "note": note})
            for kind, note in (("script", "the price line is too long"), ("agent", "confirm the name first"),
                               ("callback", "apologise for the pressure"))
        ]  # fmt: skip
        assert [r.status_code for r in opened] == [303, 303, 303]
        no_agent = client.post(f"/qa/{robot}/follow-up", data={"csrf": csrf, "kind": "agent", "note": "x"})
        assert no_agent.status_code == 400 and "no agent took this call" in no_agent.text
        no_lead = client.post(f"/qa/{robot}/follow-up", data={"csrf": csrf, "kind": "callback", "note": "x"})
        assert no_lead.status_code == 400 and "no lead to call back" in no_lead.text
        assert 'data-kind="script"' in client.get("/qa").text  # the open ones, for the script writers too

        page, csrf = as_(client, "bob", "/agent")
        assert "quality-follow-up-" not in page.text  # not his
        page, csrf = as_(client, "alice", "/agent")
        mine = {f.kind: f for f in store.inspections.follow_ups(assignee="alice")}
        assert set(mine) == {"agent", "callback"}, mine
        assert f'id="quality-follow-up-{mine["agent"].id}"' in page.text
        assert f'action="/leads/{lead.id}/call"' in page.text  # the callback is hers to place
        script = store.inspections.follow_ups(state="open", assignee=None)
        script_id = next(f.id for f in script if f.kind == "script")
        refused = client.post(f"/qa/follow-ups/{script_id}/done", data={"csrf": csrf, "answer": "x"})
        assert "someone" in refused.headers["location"]  # an agent finishes only her own
        empty = client.post(f"/qa/follow-ups/{mine['agent'].id}/done", data={"csrf": csrf, "answer": " "})
        assert "say%20what%20was%20done" in empty.headers["location"]
        done = client.post(
            f"/qa/follow-ups/{mine['agent'].id}/done", data={"csrf": csrf, "answer": "coached"}
        )
        assert done.headers["location"].startswith("/agent?m=follow-up-done")
        page, csrf = as_(client, "qa1", "/qa")
        assert (
            client.post(
                f"/qa/follow-ups/{script_id}/done", data={"csrf": csrf, "answer": "shortened"}
            ).status_code
            == 303
        )

    # the callback is alice's to place (the agents' page offers it), not bob's
    settings = load_settings(None, data_dir=tmp_path / "data")
    preview = PreviewCalls(store, None, settings, Desk(store, FakeMembers()))  # type: ignore[arg-type]
    with pytest.raises(ConsoleError, match="not one of your follow-ups"):
        asyncio.run(preview.call(as_user(store.console.user("bob")), lead.id))
    left = store.inspections.follow_ups(state="open")
    assert [f.kind for f in left] == ["callback"]
    finished = store.inspections.follow_ups(state="done")
    assert {(f.kind, f.done_by, f.answer) for f in finished} == {
        ("agent", "alice", "coached"),
        ("script", "qa1", "shortened"),
    }
    actions = [
        (a.actor, a.action, a.reason) for a in store.campaigns.audit() if a.action.startswith("follow_up")
    ]
    assert sorted(actions) == sorted([
        ("qa1", "follow_up_opened", "script"), ("qa1", "follow_up_opened", "agent"),
        ("qa1", "follow_up_opened", "callback"), ("alice", "follow_up_done", "coached"),
        ("qa1", "follow_up_done", "shortened"),
    ])  # fmt: skip
    store.close()

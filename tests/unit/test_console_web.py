"""The console's HTTP side on a real SQLite store (queues faked: the agent screens' real path is
tests/integration/test_console_browser.py): CSRF on every form, roles, throttled logins,
headers, bounded requests."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from tests.unit.test_console_logic import FakeMembers
from voicebot.config import ConsoleSettings
from voicebot.console import auth
from voicebot.console.desk import Desk
from voicebot.console.web import Console
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
    console = Console(store, Desk(store, FakeMembers()), ConsoleSettings())  # type: ignore[arg-type]
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

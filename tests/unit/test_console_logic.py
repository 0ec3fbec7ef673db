"""The console's pure parts: passwords and tokens, wrap-ups and what they do to the lead, the
queue events, the language picked; and the desk's screen-lost pause over a fake queue (its twin
through the real Asterisk is tests/integration/test_handoff.py)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from voicebot.campaign.retry import LeadStatus
from voicebot.console import auth, i18n, wrapup
from voicebot.console.desk import Desk
from voicebot.console.web import as_user
from voicebot.errors import ConsoleError
from voicebot.store import Store
from voicebot.telephony.queues import check_interface, check_queue, check_reason, queue_event

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def test_passwords_are_argon2id_and_verified():
    stored = auth.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct" not in stored
    assert auth.verify_password(stored, "correct horse battery")
    assert not auth.verify_password(stored, "correct horse batterY")
    assert not auth.verify_password("not a hash", "x" * 12)
    assert not auth.verify_password(stored, "x" * 10_000)  # no hashing of megabytes
    with pytest.raises(ConsoleError):
        auth.hash_password("short")


def test_tokens_are_random_and_kept_hashed():
    a, b = auth.new_token(), auth.new_token()
    assert a != b and len(a) >= 40
    assert auth.token_hash(a) != a and len(auth.token_hash(a)) == 64
    assert auth.same(a, a) and not auth.same(a, b)


@pytest.mark.parametrize("name", ["Alice", "a", "bob smith", "x" * 65, "../etc", ""])
def test_bad_user_names_are_refused(name):
    with pytest.raises(ConsoleError):
        auth.check_username(name)


def test_a_callback_wrap_up_is_the_callee_s_time_and_holds_the_lead_for_the_agent():
    form = {
        "disposition": "callback",
        "grade": "b",
        "callback_at": "2026-11-24T15:30",
        "callback_for": "me",
        "notes": "  after lunch ",
        "quote": "199/month",
        "address": "",
    }
    w = wrapup.parse(form, robot_grade="A", zone="Asia/Shanghai", now=NOW)
    assert w.callback_at == datetime(2026, 11, 24, 7, 30, tzinfo=UTC) and w.callback_mine
    assert (w.grade, w.notes, w.fields) == ("B", "after lunch", {"quote": "199/month"})
    change = wrapup.lead_change(w)
    assert (change.status, change.next_at, change.do_not_call) == (LeadStatus.AGENT, w.callback_at, False)


def test_an_a_or_b_lead_needs_the_agent_s_grade():
    with pytest.raises(ConsoleError, match="confirm or correct") as e:
        wrapup.parse({"disposition": "sale"}, robot_grade="B", zone="UTC", now=NOW)
    assert e.value.hint == "grade"
    w = wrapup.parse({"disposition": "sale"}, robot_grade="C", zone="UTC", now=NOW)
    assert w.grade == "C" and wrapup.lead_change(w).status is LeadStatus.DONE


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"disposition": "maybe"}, "disposition"),
        ({"disposition": "sale", "grade": "Z"}, "grade"),
        ({"disposition": "callback", "callback_at": "tomorrow"}, "callback_at"),
        ({"disposition": "callback", "callback_at": "2026-11-22T10:00"}, "callback_at"),  # the past
        ({"disposition": "callback", "callback_at": "2027-06-01T10:00"}, "callback_at"),  # > 90 days
        ({"disposition": "sale", "notes": "x" * 4001}, "notes"),
        ({"disposition": "sale", "contact": "x" * 201}, "contact"),
    ],
)
def test_a_bad_wrap_up_names_its_field(form, field):
    with pytest.raises(ConsoleError) as e:
        wrapup.parse(form, robot_grade=None, zone="Asia/Shanghai", now=NOW)
    assert e.value.hint == field


def test_do_not_call_blocks_the_number():
    w = wrapup.parse({"disposition": "do_not_call"}, robot_grade=None, zone="UTC", now=NOW)
    change = wrapup.lead_change(w)
    assert change.do_not_call and change.status is LeadStatus.DO_NOT_CALL


def test_queue_events_become_hand_off_news():
    called = {"Event": "AgentCalled", "Linkedid": "c1", "Queue": "q", "Interface": "PJSIP/a1"}
    assert queue_event(called).kind == "ringing"
    connect = {**called, "Event": "AgentConnect", "HoldTime": "3", "RingTime": "2"}
    e = queue_event(connect)
    assert (e.kind, e.wait_seconds, e.ring_seconds) == ("answered", 3.0, 2.0)
    rona = {**called, "Event": "AgentRingNoAnswer", "RingTime": "15000"}
    assert queue_event(rona).ring_seconds == 15.0  # milliseconds on this one
    done = {**called, "Event": "AgentComplete", "TalkTime": "42", "HoldTime": "x"}
    assert (queue_event(done).talk_seconds, queue_event(done).wait_seconds) == (42.0, None)
    assert queue_event({"Event": "Newchannel", "Linkedid": "c1"}) is None
    assert queue_event({"Event": "AgentCalled"}) is None  # no call id
    # recorded from the lab: the callee hung up as the agent answered; the caller's channel was
    # gone when Asterisk built the event, so it names the member only
    bare = {"Event": "AgentComplete", "HoldTime": "8", "Interface": "Local/phone-alice@voicebot-lab-phones/n",
            "MemberName": "Alice", "Privilege": "agent,all", "Queue": "voicebot-lab-desk", "Reason": "caller",
            "TalkTime": "0"}  # fmt: skip
    e = queue_event(bare)
    assert (e.kind, e.call_id, e.interface, e.talk_seconds) == (
        "completed",
        "",
        "Local/phone-alice@voicebot-lab-phones/n",
        0.0,
    )
    assert queue_event({**bare, "Event": "AgentConnect"}) is None  # the others need the call


@pytest.mark.parametrize(
    "interface", ["PJSIP/agent101", "Local/phone-alice@voicebot-lab-phones/n", "SIP/1001"]
)
def test_interfaces_the_queue_can_ring(interface):
    assert check_interface(interface) == interface


@pytest.mark.parametrize(
    "interface", ["PJSIP/a\r\nAction: Originate", "System/rm -rf", "PJSIP/", "Local/x y", "PJSIP/a;b"]
)
def test_nothing_else_reaches_ami_as_an_interface(interface):
    with pytest.raises(ConsoleError):
        check_interface(interface)


def test_queue_names_and_reasons_are_checked():
    assert check_queue("voicebot-agents") == "voicebot-agents"
    for bad in ("", "a b", "q\nAction: Logoff", "x" * 65):
        with pytest.raises(ConsoleError):
            check_queue(bad)
    assert check_reason("lunch break") == "lunch break"
    with pytest.raises(ConsoleError):
        check_reason("lunch\r\nAction: Originate")


def test_the_console_speaks_the_browser_s_language():
    assert i18n.pick("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert i18n.pick("en-GB,en;q=0.9") == "en" and i18n.pick("") == "en" and i18n.pick("fr") == "en"
    assert i18n.translator("zh")("Ready") == "就绪" and i18n.translator("en")("Ready") == "Ready"
    line = i18n.introduction("zh", "宽带公司", "销售部", "王芳")
    assert "宽带公司" in line and "销售部" in line and "王芳" in line


class FakeMembers:
    def __init__(self) -> None:
        self.actions: list[tuple[str, str, bool, str]] = []

    async def join(self, queue: str, interface: str, name: str, *, paused: bool, reason: str = "") -> None:
        self.actions.append(("join", queue, paused, reason))

    async def pause(self, queue: str, interface: str, *, paused: bool, reason: str = "") -> None:
        self.actions.append(("pause", queue, paused, reason))

    async def leave(self, queue: str, interface: str) -> None:
        self.actions.append(("leave", queue, False, ""))


async def test_a_ready_agent_whose_screen_is_gone_is_paused(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.migrate()
    info = store.console.add_user(
        "alice",
        role="agent",
        password_hash=auth.hash_password("correct horse battery"),
        interface="PJSIP/alice",
        queues=("q1", "q2"),
        actor="test",
    )
    alice = as_user(info)
    members = FakeMembers()
    desk = Desk(store, members, grace=0.2)  # type: ignore[arg-type]
    await desk.start()
    try:
        await desk.set_state(alice, "ready")
        async with desk.screen(alice):
            await asyncio.sleep(0.4)  # connected: stays ready
        assert store.console.agent_state(alice.id).state == "ready"
        async with desk.screen(alice):  # a reconnect within the grace keeps it ready
            pass
        async with desk.screen(alice):
            pass
        await asyncio.sleep(0.4)
        state = store.console.agent_state(alice.id)
        assert (state.state, state.reason) == ("paused", "screen lost")
        assert members.actions == [
            ("join", "q1", False, ""),
            ("join", "q2", False, ""),
            ("join", "q1", True, "screen lost"),
            ("join", "q2", True, "screen lost"),
        ]
        with pytest.raises(ConsoleError):
            await desk.set_state(alice, "talking")  # not the agent's to choose
    finally:
        await desk.close()
        store.close()


async def test_a_call_whose_end_names_only_the_agent_still_puts_her_in_wrap_up(tmp_path):
    # the twin on the real queue: tests/integration/test_console_browser.py
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.migrate()
    info = store.console.add_user(
        "alice",
        role="agent",
        password_hash="x",
        interface="Local/phone-alice@lab/n",
        queues=("q",),
        actor="t",
    )
    desk = Desk(store, FakeMembers(), grace=5)  # type: ignore[arg-type]
    await desk.start()
    try:
        await desk.set_state(as_user(info), "ready")
        member = {"Queue": "q", "Interface": "Local/phone-alice@lab/n", "HoldTime": "8"}
        for event in ("AgentCalled", "AgentConnect"):
            desk.on_queue_event(
                queue_event({**member, "Event": event, "Linkedid": "call-1", "RingTime": "1"})
            )
        desk.on_queue_event(
            queue_event({**member, "Event": "AgentComplete", "TalkTime": "0", "Reason": "caller"})
        )
        for _ in range(100):
            state = store.console.agent_state(info.id)
            if state.state == "wrapup":
                break
            await asyncio.sleep(0.02)
        assert (state.state, state.call_id) == ("wrapup", "call-1"), state
        (handoff,) = store.console.handoffs("call-1")
        assert (handoff.result, handoff.talk_seconds) == ("completed", 0.0)
    finally:
        await desk.close()
        store.close()


def test_login_sessions_expire_when_idle_and_at_their_end(tmp_path):
    now = [NOW]
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}", clock=lambda: now[0])
    store.migrate()
    info = store.console.add_user("sue", role="supervisor", password_hash="x", actor="t")
    token = auth.token_hash(auth.new_token())
    store.console.login(info, token_hash=token, csrf="c", lifetime=timedelta(hours=2), address="1.2.3.4")
    idle = timedelta(minutes=30)
    for minutes in (20, 40, 60, 80, 100):
        now[0] = NOW + timedelta(minutes=minutes)
        assert store.console.session(token, idle=idle) is not None, minutes  # used: kept alive
    now[0] = NOW + timedelta(minutes=125)
    assert store.console.session(token, idle=idle) is None  # past its 2 hours
    token2 = auth.token_hash(auth.new_token())
    store.console.login(info, token_hash=token2, csrf="c", lifetime=timedelta(hours=2), address="")
    now[0] += timedelta(minutes=31)
    assert store.console.session(token2, idle=idle) is None  # idle too long
    store.close()


def test_a_decline_in_the_whisper_is_news_of_the_agent_s_interface():
    from voicebot.telephony.queues import interface_of

    varset = {
        "Event": "VarSet",
        "Variable": "VOICEBOT_WHISPER",
        "Value": "decline",
        "Channel": "Local/decline-carol@voicebot-lab-phones-00000024;1",
        "Linkedid": "c1",
    }
    e = queue_event(varset)
    assert (e.kind, e.call_id, e.interface) == ("declined", "c1", "Local/decline-carol@voicebot-lab-phones/n")
    assert queue_event({**varset, "Value": "accept"}) is None
    assert queue_event({**varset, "Variable": "OTHER"}) is None
    assert interface_of("PJSIP/agent101-0000002a") == "PJSIP/agent101"


def test_a_transfer_is_taken_when_an_agent_picked_up_in_time(tmp_path):
    """Abandoned transfers (voicebot.store.console.transfer_counts) on a real SQLite store."""
    from voicebot.store import CallRecord

    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.migrate()
    at = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    def call(n: int, *, transfer: bool, whisper: tuple[str, float] | None = None, ended: bool = True):
        call_id = f"00000000-0000-4000-8000-0000000000{n:02d}"
        record = CallRecord(id=call_id, destination="+8613800000000", campaign_id="c", answered_at=at)
        store.create_call_sync(replace(record, created_at=at, completed_at=at if ended else None))
        if transfer:
            store.add_event_sync(call_id, "transfer", {"queue": "agents"}, at)
        if whisper is not None:
            store.add_event_sync(call_id, "whisper", {"decision": whisper[0], "waited": whisper[1]}, at)

    call(1, transfer=True, whisper=("accept", 1.2))  # taken within 2 s
    call(2, transfer=True, whisper=("accept", 5.0))  # taken, too late: abandoned
    call(3, transfer=True, whisper=("decline", 0.8))  # declined and nobody else: abandoned
    call(4, transfer=True)  # nobody picked up (the bot took the callee back): abandoned
    call(5, transfer=True, ended=False)  # still waiting for an agent: not counted yet
    call(6, transfer=False)  # a robot conversation that did not transfer
    counts = store.console.transfer_counts("c", at - timedelta(hours=1), limit=2.0)
    assert (counts.conversations, counts.transfers, counts.taken, counts.abandoned) == (6, 4, 1, 3)
    assert counts.abandoned_rate == 0.75
    assert store.console.transfer_counts("c", at + timedelta(hours=1), limit=2.0).abandoned_rate is None
    store.close()

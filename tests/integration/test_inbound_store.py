"""Callers phoning back, on a real database (SQLite and PostgreSQL): which lead a caller is, what
their call changes on the lead, and the router's choice between the agents and the bot. The
queue's state comes from a stand-in here; test_inbound.py routes real calls through the lab."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.test_dialer import MONDAY_10, SH, lead, make_campaign
from tests.support import Clock
from voicebot.campaign.inbound import InboundRouter
from voicebot.campaign.retry import LeadStatus, Next
from voicebot.campaign.rules import CallingWindow
from voicebot.errors import AmiError
from voicebot.store import Store
from voicebot.telephony.queues import QueueSummary


@pytest.fixture
def clock():
    return Clock(MONDAY_10)


def dial(store: Store, campaign) -> None:
    """The dialer's claim of every due lead of the campaign: their attempts are written."""
    claims, _ = store.campaigns.claim(campaign.id, campaign.policy(), campaign.timezone, "w1", 100)
    assert claims


def test_a_caller_is_the_lead_the_robot_called_last_at_that_number(store, clock):
    phone = "+8613800001001"
    c2 = make_campaign(store, [lead("1", 1)], "c2")
    make_campaign(store, [lead("1", 1), lead("1", 2)], "c1")  # imported later: newer lead ids
    dial(store, c2)
    found = store.campaigns.calling_back(phone)
    assert found is not None and (found[0].campaign_id, found[0].phone) == ("c2", phone)
    assert found[1]["id"] == "c2"  # with its campaign's definition
    # never called: the newest lead with the number
    only = store.campaigns.calling_back("+8613800001002")
    assert only is not None and only[0].campaign_id == "c1"
    assert store.campaigns.calling_back("+8613900000000") is None


def test_a_callback_taken_on_an_inbound_call_brings_the_lead_back_once(store, clock):
    campaign = make_campaign(store, [lead("1", 1), lead("1", 2)], "c1")
    repo = store.campaigns
    repo.dnc_add(["+8613800001002"], reason="asked", actor="t")
    claims, _ = repo.claim(campaign.id, campaign.policy(), campaign.timezone, "w1", 100)
    assert len(claims) == 1  # the robot reached the other lead: done
    repo.finish(
        claims[0].call_id,
        Next(LeadStatus.DONE),
        disposition="answered",
        outcome="completed",
        grade="C",
        actor="w1",
    )
    done, blocked = sorted(repo.leads("c1"), key=lambda x: x.phone)
    assert (done.status, blocked.status) == ("done", "dnc")
    when = clock() + timedelta(days=1)
    callback = Next(LeadStatus.PENDING, when, "callback requested")
    for _ in range(2):  # the outbox may replay a write
        repo.called_back(done.id, "1733212345.67", nxt=callback, actor="w1", detail={"why": "x"})
    repo.called_back(blocked.id, "1733212345.68", nxt=callback, actor="w1", detail={})
    after = {x.id: x for x in repo.leads("c1")}
    assert (after[done.id].status, after[done.id].next_at) == ("pending", when)
    assert (after[blocked.id].status, after[blocked.id].next_at) == ("dnc", blocked.next_at)
    audit = repo.audit(action="inbound")
    assert sorted((a.lead_id, a.call_id) for a in audit) == [
        (done.id, "1733212345.67"),
        (blocked.id, "1733212345.68"),
    ]
    assert {a.lead_id: a.reason for a in audit}[done.id] == "callback requested"


class Queue:
    """The agents' queue as the PBX reports it (stand-in; the lab test reads the real one)."""

    def __init__(self, logged_in: int | None) -> None:
        self.logged_in, self.asked = logged_in, []

    async def __call__(self, queue: str) -> QueueSummary:
        self.asked.append(queue)
        if self.logged_in is None:
            raise AmiError("QueueSummary timed out")
        return QueueSummary(queue, available=0, waiting=0, logged_in=self.logged_in, longest_wait=0.0)


def router(store: Store, clock: Clock, queue: Queue) -> InboundRouter:
    return InboundRouter(
        store,
        queue,
        agent_hours=CallingWindow(days=(0, 1, 2, 3, 4)),  # 09:00-18:00 Monday to Friday
        timezone="Asia/Shanghai",
        region="CN",
        queue="voicebot-agents",
        agent_wait=30.0,
        clock=clock,
    )


async def test_the_router_sends_known_callers_to_their_campaign_s_agents_on_duty(store, clock):
    make_campaign(store, [lead("1", 1)], "c1", queue="desk-c1", agent_wait=45)
    queue = Queue(logged_in=2)
    # the trunk gives the national form: it is the lead's number all the same
    caller = await router(store, clock, queue).route("13800001001")
    r = caller.route
    assert (r.to_agents, r.phone, r.campaign_id, r.queue, r.agent_wait) == (
        True,
        "+8613800001001",
        "c1",
        "desk-c1",
        45,
    )
    assert caller.lead is not None and r.lead_id == caller.lead.id and queue.asked == ["desk-c1"]
    # nobody logged in, or a queue the PBX cannot report: the bot answers
    for logged_in, why in ((0, "no agent logged in"), (None, "the agents' queue could not be read")):
        r = (await router(store, clock, Queue(logged_in)).route("+8613800001001")).route
        assert (r.to_agents, r.why, r.lead_id) == (False, why, caller.lead.id)


async def test_outside_the_agents_hours_the_bot_answers_even_unknown_callers(store, clock):
    make_campaign(store, [lead("1", 1)], "c1")
    clock.set(MONDAY_10.replace(hour=20))
    queue = Queue(logged_in=3)
    r = (await router(store, clock, queue).route("+8613800001001")).route
    assert (r.to_agents, r.why, r.queue) == (False, "outside the agents' hours", "voicebot-agents")
    assert queue.asked == []  # the queue is not even asked
    clock.set(MONDAY_10.astimezone(SH) + timedelta(days=5))  # Saturday 10:00
    withheld = await router(store, clock, queue).route("anonymous")
    assert (withheld.route.phone, withheld.lead, withheld.route.to_agents) == (None, None, False)
    clock.set(MONDAY_10)
    stranger = await router(store, clock, queue).route("+8613900000000")
    assert (stranger.route.phone, stranger.lead, stranger.route.to_agents) == ("+8613900000000", None, True)

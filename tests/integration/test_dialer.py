"""The dialer over a real database (SQLite and PostgreSQL) with an injectable clock.

Calls are placed by a stand-in that answers like the lab's numbered callees
(the digit after +86 1380000 picks the behaviour); the twin tests in
test_campaign_calls.py place the same leads through the real Asterisk.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support import Clock
from voicebot.campaign.definition import Campaign
from voicebot.campaign.dialer import Dialer
from voicebot.campaign.leads import ImportedLead
from voicebot.store import CallRecord, Store
from voicebot.store.campaigns import Claim

SH = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
#: digit -> (disposition, outcome, opted out, callback words)
BEHAVIOUR = {
    "1": ("answered", "transferred", False, None),
    "2": ("busy", None, False, None),
    "3": ("no_answer", None, False, None),
    "4": ("answered", "opted_out", True, None),
    "5": ("congestion", None, False, None),
    "7": ("answered", "callback", False, "tomorrow morning"),
}


class Callees:
    """Places calls the way the lab's numbered callees answer them."""

    def __init__(self, store: Store, clock: Clock, hold: float = 0.0) -> None:
        self.store, self.clock, self.hold = store, clock, hold
        self.placed: list[tuple[str, datetime]] = []
        self.started = asyncio.Event()
        self._changed = asyncio.Condition()
        self.up = self.most_up = 0

    async def wait_for(self, calls: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.placed) >= calls)

    async def __call__(self, campaign: Campaign, claim: Claim) -> CallRecord:
        phone = claim.lead.phone
        await self.store.create_call(CallRecord(id=claim.call_id, destination=phone, campaign_id=campaign.id))
        self.placed.append((phone, self.clock()))
        async with self._changed:
            self._changed.notify_all()
        self.started.set()
        self.up += 1
        self.most_up = max(self.most_up, self.up)
        try:
            await asyncio.sleep(self.hold)
        finally:
            self.up -= 1
        disposition, outcome, opted_out, callback = BEHAVIOUR[phone[-4]]
        if opted_out:  # what App does the moment the script hears the refusal
            await self.store.run(
                self.store.campaigns.dnc_add,
                [phone],
                reason="opted out by voice",
                actor="t",
                call_id=claim.call_id,
            )
        return await self.store.update_call(
            claim.call_id,
            disposition=disposition,
            outcome=outcome,
            opted_out=opted_out,
            callback=callback,
            completed_at=self.clock(),
        )


def lead(digit: str, n: int, consent: bool = True) -> ImportedLead:
    return ImportedLead(
        line=n + 1,
        phone=f"+861380000{digit}{n:03d}",
        name=f"lead {digit}{n}",
        timezone="Asia/Shanghai",
        consent_source="web form" if consent else None,
        consent_at=datetime(2026, 11, 1, tzinfo=UTC) if consent else None,
    )


@pytest.fixture
def clock():
    return Clock(MONDAY_10)


def make_campaign(store: Store, leads: list[ImportedLead], campaign_id: str = "c1", **definition) -> Campaign:
    campaign = Campaign(id=campaign_id, **definition)
    repo = store.campaigns
    repo.save_campaign(campaign.id, "test", campaign.to_json(), "t")
    repo.import_leads(campaign.id, leads, "leads.csv", "t")
    repo.set_state(campaign.id, "running", "t")
    return campaign


def statuses(store: Store) -> dict[str, str]:
    return {lead.phone: lead.status for lead in store.campaigns.leads("c1")}


async def test_a_campaign_under_the_rules_with_retries_on_the_clock(store, clock):
    leads = [lead(d, 1) for d in "123457"] + [lead("1", 2, consent=False), lead("1", 3), lead("1", 4)]
    repo = store.campaigns
    repo.dnc_add(["+8613800001003"], reason="asked on another channel", actor="t")
    repo.dnc_add(["+8613800001004"], scope="c1", reason="campaign list", actor="t")
    repo.dnc_add(["+8613800001004"], scope="other", reason="another campaign's list", actor="t")
    make_campaign(
        store,
        leads,
        retry={"busy": "10m", "no_answer": "1h", "congestion": None},
        limits={"per_day": 2, "min_interval": "5m"},
        pacing={"max_channels": 10, "calls_per_second": 50},
    )
    callees = Callees(store, clock)
    dialer = Dialer(store, callees, worker="w1", max_channels=10, clock=clock, tick=0.05)

    await dialer.run(until_idle=True)
    dialed = [p for p, _ in callees.placed]
    assert sorted(dialed) == sorted(f"+861380000{d}001" for d in "123457")
    s = statuses(store)
    assert s["+8613800001001"] == "done"
    assert s["+8613800002001"] == "pending"  # busy: again in 10 minutes
    assert s["+8613800004001"] == "dnc" and repo.dnc_check("+8613800004001")[0].reason == "opted out by voice"
    assert s["+8613800005001"] == "done"  # congestion is not retried in this campaign
    assert s["+8613800001002"] == "no_consent"
    assert s["+8613800001003"] == s["+8613800001004"] == "dnc"
    skipped = {e.phone: e.reason for e in repo.audit(campaign_id="c1", action="skipped")}
    assert skipped == {
        "+8613800001002": "no consent",
        "+8613800001003": "do-not-call",
        "+8613800001004": "do-not-call",
    }

    clock.set(MONDAY_10 + timedelta(minutes=9))
    await dialer.run(until_idle=True)
    assert len(callees.placed) == 6  # nothing due yet
    clock.set(MONDAY_10 + timedelta(minutes=10))
    await dialer.run(until_idle=True)
    assert callees.placed[6] == ("+8613800002001", clock())  # busy retried at +10 min exactly
    clock.set(MONDAY_10 + timedelta(minutes=20))
    await dialer.run(until_idle=True)
    # a third busy attempt today would break the per-day cap (2): it waits for tomorrow's opening
    assert len(callees.placed) == 7
    busy = next(x for x in repo.leads("c1") if x.phone == "+8613800002001")
    assert busy.last_reason == "attempt cap reached"
    assert busy.next_at == datetime(2026, 11, 24, 9, tzinfo=SH)
    clock.set(MONDAY_10 + timedelta(hours=1))
    await dialer.run(until_idle=True)
    assert callees.placed[7] == ("+8613800003001", clock())  # no answer retried after an hour

    # 19:00: the window is closed; nothing is dialed
    callees.placed.clear()
    clock.set(datetime(2026, 11, 23, 19, 0, tzinfo=SH))
    repo.import_leads("c1", [lead("1", 5)], "late.csv", "t")
    await dialer.run(until_idle=True)
    assert callees.placed == []
    late = next(x for x in repo.leads("c1") if x.phone == "+8613800001005")
    assert late.last_reason == "outside calling window" and late.next_at == datetime(
        2026, 11, 24, 9, tzinfo=SH
    )

    # Tuesday: the callback ("tomorrow morning" = 10:00) and the others at their times
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=SH))
    await dialer.run(until_idle=True)
    assert sorted(p for p, _ in callees.placed) == ["+8613800001005", "+8613800002001", "+8613800003001"]
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=SH))
    await dialer.run(until_idle=True)
    assert callees.placed[-1] == ("+8613800007001", clock())
    # every attempt is in the audit with the worker that dialed it
    dialed_audit = repo.audit(campaign_id="c1", action="dialed", limit=100)
    assert len(dialed_audit) == len(repo.attempts("c1")) and {e.actor for e in dialed_audit} == {"w1"}


async def test_pause_stops_new_calls_and_resume_continues(store, clock):
    make_campaign(store, [lead("1", n) for n in range(4)], pacing={"max_channels": 1, "calls_per_second": 50})
    callees = Callees(store, clock, hold=0.3)
    dialer = Dialer(store, callees, worker="w1", max_channels=10, clock=clock, tick=0.05)
    running = asyncio.create_task(dialer.run())
    await callees.started.wait()
    store.campaigns.set_state("c1", "paused", "supervisor", "lunch")
    await asyncio.sleep(1.0)
    assert len(callees.placed) == 1  # the call in progress finished; no new one started
    assert dialer.in_flight == 0
    store.campaigns.set_state("c1", "running", "supervisor")
    for _ in range(100):
        if len(callees.placed) == 4 and dialer.in_flight == 0:
            break
        await asyncio.sleep(0.05)
    dialer.stop()
    await running
    assert len(callees.placed) == 4
    assert store.campaigns.campaign("c1").state == "finished"
    actions = [e.action for e in store.campaigns.audit(campaign_id="c1") if e.action.startswith("campaign_")]
    assert actions == [
        "campaign_created",
        "campaign_running",
        "campaign_paused",
        "campaign_running",
        "campaign_finished",
    ]


async def test_a_number_blocked_while_its_lead_waits_is_never_dialed(store, clock):
    # 1 call per second: the third claimed lead waits about 2 s for its turn
    make_campaign(store, [lead("1", n) for n in range(3)], pacing={"max_channels": 3, "calls_per_second": 1})
    callees = Callees(store, clock, hold=0.1)
    dialer = Dialer(store, callees, worker="w1", max_channels=10, clock=clock, tick=0.05)
    running = asyncio.create_task(dialer.run(until_idle=True))
    await callees.started.wait()
    store.campaigns.dnc_add(["+8613800001002"], reason="opted out by voice on another worker", actor="w2")
    await running
    assert [p for p, _ in callees.placed] == ["+8613800001000", "+8613800001001"]
    assert statuses(store)["+8613800001002"] == "dnc"
    assert [a["phone"] for a in store.campaigns.attempts("c1")] == ["+8613800001000", "+8613800001001"]


async def test_a_worker_that_died_mid_call_is_reconciled_not_redialed(store, clock):
    make_campaign(store, [lead("1", 0), lead("2", 0)])
    callees = Callees(store, clock, hold=3600)  # calls that never end: the worker dies during them
    dialer = Dialer(store, callees, worker="w1", max_channels=10, clock=clock, tick=0.05)
    running = asyncio.create_task(dialer.run())
    await asyncio.wait_for(callees.wait_for(2), 10)
    running.cancel()  # the process is gone: attempts stay "dialing", call records incomplete
    with pytest.raises(asyncio.CancelledError):
        await running
    assert {a["state"] for a in store.campaigns.attempts("c1")} == {"dialing"}

    clock.set(MONDAY_10 + timedelta(minutes=1))
    again = Callees(store, clock)
    restarted = Dialer(store, again, worker="w1", max_channels=10, clock=clock, tick=0.05)
    await restarted.run(until_idle=True)
    assert again.placed == []  # not redialed the same minute
    attempts = store.campaigns.attempts("c1")
    assert [a["state"] for a in attempts] == ["unknown", "unknown"]
    for a in attempts:
        record = await store.get_call(a["call_id"])
        assert record.completed and record.disposition == "unknown"
    leads = store.campaigns.leads("c1")
    assert {x.status for x in leads} == {"pending"}
    assert {x.next_at for x in leads} == {clock() + timedelta(hours=1)}  # the "unknown" retry delay
    assert len(store.campaigns.audit(campaign_id="c1", action="reconciled")) == 2


def test_two_workers_never_claim_the_same_lead(postgres_url, clock):
    """Row locks that skip locked rows: two workers (own engines, own threads) share one campaign."""
    first = Store(postgres_url, clock=clock)
    first.migrate()
    campaign = make_campaign(first, [lead(str(1 + n % 9), n) for n in range(300)], limits={"per_day": 5})
    second = Store(postgres_url, clock=clock)
    claimed: dict[str, list[int]] = {"w1": [], "w2": []}

    def work(store: Store, worker: str) -> None:
        while store.campaigns.remaining("c1").get("pending"):  # as the dialer does: until none is left
            claims, _ = store.campaigns.claim("c1", campaign.policy(), "Asia/Shanghai", worker, 7)
            claimed[worker] += [c.lead.id for c in claims]

    threads = [threading.Thread(target=work, args=(s, w)) for s, w in ((first, "w1"), (second, "w2"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    one, two = claimed["w1"], claimed["w2"]
    assert one and two  # both took part
    assert not set(one) & set(two) and len(one) + len(two) == len(set(one) | set(two)) == 300
    assert len(first.campaigns.attempts("c1")) == 300
    first.close()
    second.close()


async def test_a_campaign_paused_while_its_leads_wait_for_their_turn(store, clock):
    make_campaign(store, [lead("1", n) for n in range(3)], pacing={"max_channels": 3, "calls_per_second": 1})
    callees = Callees(store, clock, hold=0.1)
    dialer = Dialer(store, callees, worker="w1", max_channels=10, clock=clock, tick=0.05)
    running = asyncio.create_task(dialer.run())
    await callees.started.wait()
    store.campaigns.set_state("c1", "paused", "supervisor", "complaint from a callee")
    await asyncio.sleep(2.5)
    assert len(callees.placed) == 1  # the two claimed leads waiting for the pace were not dialed
    repo = store.campaigns
    assert [e.reason for e in repo.audit(campaign_id="c1", action="skipped")] == ["campaign paused"] * 2
    assert len(repo.attempts("c1")) == 1 and statuses(store) == {
        "+8613800001000": "done",
        "+8613800001001": "pending",
        "+8613800001002": "pending",
    }
    repo.set_state("c1", "running", "supervisor")
    await asyncio.wait_for(callees.wait_for(3), 10)
    dialer.stop()
    await running
    assert {x.attempts for x in repo.leads("c1")} == {1}  # a cancelled claim is not an attempt


async def test_campaigns_sharing_a_trunk_stay_within_its_channels(store, clock):
    pacing = {"max_channels": 5, "calls_per_second": 100}
    make_campaign(store, [lead("1", n) for n in range(6)], campaign_id="a", trunk="carrier", pacing=pacing)
    make_campaign(store, [lead("2", n) for n in range(6)], campaign_id="b", trunk="carrier", pacing=pacing)
    callees = Callees(store, clock, hold=0.2)
    dialer = Dialer(
        store, callees, worker="w1", max_channels=10, trunks={"carrier": 3}, clock=clock, tick=0.05
    )
    await asyncio.wait_for(dialer.run(until_idle=True), 30)
    assert len(callees.placed) == 12 and callees.most_up == 3


async def test_a_campaign_whose_script_is_broken_is_paused_and_loses_no_lead(store, clock):
    from voicebot.errors import ScriptError

    make_campaign(store, [lead("1", n) for n in range(3)], pacing={"max_channels": 3, "calls_per_second": 50})

    async def broken(campaign, claim):
        raise ScriptError("flow.yml: nodes.opening.say: field required", file="intents/x/flow.yml", line=12)

    dialer = Dialer(store, broken, worker="w1", max_channels=10, clock=clock, tick=0.05)
    await asyncio.wait_for(dialer.run(until_idle=True), 10)
    repo = store.campaigns
    info = repo.campaign("c1")
    assert info.state == "paused"
    (paused,) = repo.audit(campaign_id="c1", action="campaign_paused")
    assert paused.actor == "w1" and "intents/x/flow.yml:12" in paused.reason
    assert repo.attempts("c1") == []  # nobody was dialed: no attempt counts against a lead
    assert {(x.status, x.attempts) for x in repo.leads("c1")} == {("pending", 0)}


async def test_a_closed_window_reschedules_a_big_campaign_in_one_pass(store, clock):
    make_campaign(store, [lead(str(1 + n % 9), n) for n in range(1500)])
    clock.set(datetime(2026, 11, 23, 19, 0, tzinfo=SH))
    dialer = Dialer(store, Callees(store, clock), worker="w1", max_channels=10, clock=clock, tick=0.05)
    due = await dialer.pass_once()
    assert due == 0
    assert {x.next_at for x in store.campaigns.leads("c1")} == {datetime(2026, 11, 24, 9, tzinfo=SH)}


async def test_a_lead_cap_ends_a_lead_the_number_caps_would_still_allow(store, clock):
    make_campaign(
        store,
        [lead("2", 0)],
        retry={"busy": "10m"},
        limits={"per_lead": 1, "min_interval": "1m"},
        pacing={"max_channels": 1, "calls_per_second": 50},
    )
    callees = Callees(store, clock)
    dialer = Dialer(store, callees, worker="w1", max_channels=10, clock=clock, tick=0.05)
    await dialer.run(until_idle=True)
    clock.set(MONDAY_10 + timedelta(minutes=10))
    await dialer.run(until_idle=True)
    assert len(callees.placed) == 1
    (only,) = store.campaigns.leads("c1")
    assert (only.status, only.last_reason) == ("exhausted", "attempt cap reached")


async def test_another_worker_takes_over_only_once_a_worker_has_gone_silent(store, clock):
    make_campaign(store, [lead("1", 0)], pacing={"max_channels": 1, "calls_per_second": 50})
    callees = Callees(store, clock, hold=3600)  # a long call, say with an agent
    first = Dialer(store, callees, worker="w1", max_channels=10, clock=clock, tick=0.05)
    running = asyncio.create_task(first.run())
    await asyncio.wait_for(callees.wait_for(1), 10)
    other = Dialer(store, Callees(store, clock), worker="w2", max_channels=10, clock=clock, tick=0.05)
    clock.set(MONDAY_10 + timedelta(minutes=30))
    await first.pass_once()  # w1 is alive: it beats at every pass
    assert await other.reconcile() == []  # its half-hour call is its own
    running.cancel()  # w1 dies
    with pytest.raises(asyncio.CancelledError):
        await running
    clock.set(MONDAY_10 + timedelta(minutes=31))
    assert await other.reconcile() == []  # a minute of silence is not yet death
    clock.set(MONDAY_10 + timedelta(minutes=33))
    (taken,) = await other.reconcile()
    assert taken.worker == "w1"
    (attempt,) = store.campaigns.attempts("c1")
    assert attempt["state"] == "unknown"
    assert store.campaigns.audit(campaign_id="c1", action="reconciled")[0].actor == "w2"


async def test_the_worker_never_has_more_calls_up_than_its_capacity_and_says_what_holds_it(
    store, clock, caplog
):
    make_campaign(
        store, [lead("1", n) for n in range(10)], pacing={"max_channels": 20, "calls_per_second": 100}
    )
    callees = Callees(store, clock, hold=0.3)
    dialer = Dialer(store, callees, worker="w1", max_channels=20, capacity=4, clock=clock, tick=0.05)
    caplog.set_level("INFO", logger="voicebot.campaign.dialer")
    run = asyncio.create_task(dialer.run(until_idle=True))
    await callees.wait_for(4)
    await asyncio.sleep(0.1)
    await dialer.pass_once()  # its heartbeat carries what it is doing
    (beat,) = store.campaigns.workers()
    assert (beat.name, beat.capacity, beat.calls) == ("w1", 4, 4)
    assert beat.held == "at capacity: 4 conversations"
    await asyncio.wait_for(run, 30)
    assert len(callees.placed) == 10 and callees.most_up == 4
    held = [r.getMessage() for r in caplog.records if r.getMessage().startswith("dialing")]
    # one line per change of state, not one per pass
    assert held[0] == "dialing held: at capacity: 4 conversations" and "dialing resumed" in held
    assert all(a != b for a, b in itertools.pairwise(held))

"""Campaign figures; prints, asserts nothing.

    .venv/bin/python bench/campaign.py decide [--leads 100000]
    .venv/bin/python bench/campaign.py claim [--leads 100000] [--db URL]
    (lab env) .venv/bin/python bench/campaign.py originate [--calls 200] [--cps 20]
    (lab env) .venv/bin/python bench/campaign.py optout [--db URL] [--workers 2]

- decide: the pure dial rules over N leads with attempt histories (the work of one full
  scheduling pass), leads per second;
- claim: the same pass through the database: every due lead claimed (attempt + audit
  written) or skipped (next time + audit written), in batches as the dialer does it;
- originate: dialer-paced originates to lab callees that are busy (so calls end at once):
  the rate sustained against the campaign's calls per second;
- optout: from a number put on the do-not-call list (as the opt-out hook does) to every
  worker's claim refusing it, measured as the time until the next claim skips it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from figures import percentile

from voicebot.campaign.definition import Campaign
from voicebot.campaign.leads import ImportedLead
from voicebot.campaign.rules import AttemptLimits, Lead, Policy
from voicebot.store import Store

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SH).astimezone(UTC)
ZONES = ["Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "America/New_York"]


def decide(n: int) -> None:
    rng = random.Random(0)
    policy = Policy(limits=AttemptLimits(per_day=2, per_24h=3, per_7_days=5, lifetime=10))
    leads = [Lead(f"+86138{i:08d}", rng.choice(ZONES), rng.random() < 0.95) for i in range(n)]
    histories = [
        [NOW - timedelta(minutes=rng.randint(30, 60 * 24 * 8)) for _ in range(rng.choice((0, 0, 1, 2, 4)))]
        for _ in range(n)
    ]
    dnc = {lead.number for lead in rng.sample(leads, n // 100)}
    start = time.perf_counter()
    allowed = sum(
        policy.decide(lead, NOW, history, dnc).allowed for lead, history in zip(leads, histories, strict=True)
    )
    took = time.perf_counter() - start
    print(f"decide: {n} leads in {took:.3f} s ({n / took:,.0f} leads/s), {allowed} allowed now")


def claim(n: int, url: str | None) -> None:
    tmp = tempfile.mkdtemp()
    url = url or f"sqlite:///{tmp}/bench.db"
    store = Store(url, clock=lambda: NOW)
    store.migrate()
    repo = store.campaigns
    campaign = Campaign(id=f"bench{os.getpid()}")
    repo.save_campaign(campaign.id, "bench", campaign.to_json(), "bench")
    rng = random.Random(0)
    rows = [
        ImportedLead(
            i + 2,
            f"+86138{i:08d}",
            timezone=rng.choice(ZONES),
            consent_source="bench" if rng.random() < 0.95 else None,
        )
        for i in range(n)
    ]
    start = time.perf_counter()
    repo.import_leads(campaign.id, rows, "bench.csv", "bench")
    imported = time.perf_counter() - start
    repo.set_state(campaign.id, "running", "bench")
    policy = campaign.policy()
    claimed = skipped = passes = 0
    start = time.perf_counter()
    while True:
        got, skip = repo.claim(campaign.id, policy, campaign.timezone, "bench", 500)
        passes += 1
        claimed += len(got)
        skipped += skip
        if not got and not skip:
            break
    took = time.perf_counter() - start
    kind = url.split(":", 1)[0]
    print(f"claim ({kind}): import of {n} leads {imported:.1f} s ({n / imported:,.0f}/s)")
    print(
        f"claim ({kind}): full pass {took:.1f} s ({n / took:,.0f} leads/s) in {passes} batches of 500: "
        f"{claimed} claimed (attempt + audit written), {skipped} skipped (rescheduled + audit written)"
    )
    store.close()


async def originate(calls: int, cps: float) -> None:
    from voicebot.app import App
    from voicebot.config import load_settings

    tmp = tempfile.mkdtemp()
    settings = load_settings(
        None,
        data_dir=tmp,
        agi={"port": 0},
        audiosocket={"port": 0},
        dial={"channel_template": "Local/{number}@voicebot-lab-numbers/n", "number_format": "digits"},
        dialer={"max_channels": 200},
    )
    campaign = Campaign(
        id="rate",
        calling_hours={
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "00:00",
            "end": "24:00",
        },
        retry={"busy": None},
        pacing={"max_channels": 200, "calls_per_second": cps},
    )
    rows = [ImportedLead(i + 2, f"+8613800002{i:03d}", consent_source="bench") for i in range(calls)]
    async with App(settings) as app:
        repo = app.store.campaigns
        repo.save_campaign(campaign.id, "", campaign.to_json(), "bench")
        repo.import_leads(campaign.id, rows, "bench.csv", "bench")
        repo.set_state(campaign.id, "running", "bench")
        start = time.perf_counter()
        await app.dialer().run({"rate"}, until_idle=True)
        took = time.perf_counter() - start
        attempts = repo.attempts("rate")
        records = [await app.store.get_call(a["call_id"]) for a in attempts]
    # each call record is written just before its Originate goes to Asterisk
    starts = sorted(r.created_at for r in records if r is not None and r.created_at is not None)
    span = (starts[-1] - starts[0]).total_seconds()
    gaps = [(b - a).total_seconds() * 1000 for a, b in itertools.pairwise(starts)]
    busy = sum(a["disposition"] == "busy" for a in attempts)
    print(
        f"originate: {len(starts)} calls at {cps}/s asked: originated over {span:.1f} s = "
        f"{(len(starts) - 1) / span:.1f}/s sustained (gap p50 {percentile(gaps, 50):.0f} ms, "
        f"p95 {percentile(gaps, 95):.0f} ms); whole run {took:.1f} s; {busy} busy as the lab answers"
    )


def optout(url: str | None, workers: int, rounds: int) -> None:
    tmp = tempfile.mkdtemp()
    url = url or f"sqlite:///{tmp}/bench.db"
    stores = [Store(url, clock=lambda: datetime.now(UTC)) for _ in range(workers)]
    stores[0].migrate()
    campaign = Campaign(
        id=f"opt{os.getpid()}",
        calling_hours={
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "00:00",
            "end": "24:00",
        },
    )
    repo = stores[0].campaigns
    repo.save_campaign(campaign.id, "", campaign.to_json(), "bench")
    repo.import_leads(
        campaign.id,
        [ImportedLead(i + 2, f"+8613900{i:06d}", consent_source="b") for i in range(rounds)],
        "b",
        "b",
    )
    repo.set_state(campaign.id, "running", "bench")
    policy = campaign.policy()
    blocked_after = []
    for i in range(rounds):
        phone = f"+8613900{i:06d}"
        start = time.perf_counter()
        repo.dnc_add([phone], reason="opted out by voice", actor="bench")  # the opt-out hook's write
        for store in stores:  # every worker: is it refused now?
            assert store.campaigns.is_blocked(phone, campaign.id)
        blocked_after.append((time.perf_counter() - start) * 1000)
    got, _ = stores[-1].campaigns.claim(campaign.id, policy, campaign.timezone, "w", rounds)
    kind = url.split(":", 1)[0]
    print(
        f"optout ({kind}, {workers} workers): number blocked for every worker "
        f"{percentile(blocked_after, 50):.1f} ms p50, {percentile(blocked_after, 95):.1f} ms p95 after the "
        f"opt-out; {len(got)} of {rounds} blocked leads claimed afterwards"
    )
    for store in stores:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["decide", "claim", "originate", "optout"])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--cps", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.what == "decide":
        decide(args.leads)
    elif args.what == "claim":
        claim(args.leads, args.db)
    elif args.what == "originate":
        asyncio.run(originate(args.calls, args.cps))
    else:
        optout(args.db, args.workers, 200)


if __name__ == "__main__":
    main()

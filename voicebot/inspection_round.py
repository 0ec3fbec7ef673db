"""The inspectors' queue fills itself (``voicebot serve``): each round queues every campaign's
calls that failed their automatic inspection this week at once, and last week's sample (sign-ups,
then a spread over grades and outcomes up to the weekly quota) once the week is over. Filling is
idempotent: a round tops the queue up, never queues a call twice. ``voicebot qa sample`` fills
one week by hand with the same function."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from voicebot.config import Settings
from voicebot.errors import StoreError
from voicebot.qa.sampling import SamplingPolicy, sample
from voicebot.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Filled:
    campaign_id: str
    week: str  # 2026-W49
    answered: int  # the week's answered calls, the candidates
    queued_before: int
    added: int
    flagged: int
    signups: int
    sampled: int


def week_of(day: date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def fill_week(store: Store, campaign_id: str, monday: date, policy: SamplingPolicy, *, actor: str) -> Filled:
    """Queue a campaign's week by ``policy`` (the days in the campaign's time zone). Sync: on the
    store's thread."""
    info = store.campaigns.campaign(campaign_id)
    zone = ZoneInfo(str(info.definition.get("timezone") or "Asia/Shanghai"))
    start = datetime.combine(monday, datetime.min.time(), zone)
    candidates, queued = store.inspections.candidates(campaign_id, start, start + timedelta(days=7))
    chosen = sample(candidates, policy, queued=queued)
    added = store.inspections.enqueue(campaign_id, week_of(monday), chosen, actor=actor)
    counts = {r: sum(1 for _, why in chosen if why == r) for r in ("flagged", "signup", "sample")}
    return Filled(
        campaign_id, week_of(monday), len(candidates), len(queued), added,
        counts["flagged"], counts["signup"], counts["sample"],
    )  # fmt: skip


def fill_all(store: Store, settings: Settings) -> list[Filled]:
    """One round: every campaign's flagged calls of this week, and last week's sample."""
    q = settings.qa
    policy = SamplingPolicy(per_week=q.per_week, per_month=q.per_month, signups=q.signups)
    flagged_only = SamplingPolicy(per_week=0, per_month=0, signups=False)
    filled = []
    for info in store.campaigns.campaigns():
        zone = ZoneInfo(str(info.definition.get("timezone") or "Asia/Shanghai"))
        today = store.now().astimezone(zone).date()
        this_monday = today - timedelta(days=today.weekday())
        for monday, rule in ((this_monday - timedelta(days=7), policy), (this_monday, flagged_only)):
            done = fill_week(store, info.id, monday, rule, actor="sampling")
            if done.added:
                filled.append(done)
    return filled


async def run_every(store: Store, settings: Settings, stop: asyncio.Event) -> None:
    """``voicebot serve``: a round now and every ``[qa] sample_every_minutes`` until ``stop``;
    a database outage skips a round, it never stops the worker."""
    while not stop.is_set():
        try:
            for f in await store.run(fill_all, store, settings):
                log.info(
                    "inspection queue %s %s: %d queued (%d flagged, %d sign-ups, %d sampled)",
                    f.campaign_id, f.week, f.added, f.flagged, f.signups, f.sampled,
                )  # fmt: skip
        except StoreError as e:
            log.warning("inspection queue: skipped this round: %s", e.message)
        try:
            await asyncio.wait_for(stop.wait(), settings.qa.sample_every_minutes * 60)
        except TimeoutError:
            pass

"""The dialer: running campaigns' leads, dialed within the rules, the channel limits and the pace.

One ``Dialer`` per worker process. Each pass it claims due leads (the store
applies the dial rules and writes each attempt before anything is dialed),
spaces the originates to the campaign's calls per second, checks the number
against the do-not-call lists once more just before dialing, and when a call
ends moves its lead on (retry, callback, done, do-not-call). On start it
reconciles the attempts it left in flight when it last stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from voicebot.calls.recovery import interrupted, with_cdr
from voicebot.campaign.definition import Campaign
from voicebot.campaign.humans import HumanSide
from voicebot.campaign.outcomes import AttemptResult, next_step
from voicebot.campaign.pacing import Pacer, PbxCeiling
from voicebot.campaign.retry import LeadStatus
from voicebot.campaign.trunks import TrunkHealth
from voicebot.errors import ConfigError, StoreUnavailable, VoicebotError
from voicebot.store import CallRecord, Store
from voicebot.store.campaigns import Claim, InFlight
from voicebot.store.outbox import Outbox, apply_now
from voicebot.telephony.cdr import Cdr

log = logging.getLogger(__name__)
#: Seconds between looks for attempts that dead workers left in flight.
RECONCILE_EVERY = 30.0
#: Claims per campaign per pass at most (each looks at 4x its free channels + 100 leads).
MAX_CLAIM_ROUNDS = 20

#: Places one lead's call (the call id is the attempt's) and returns its completed record.
PlaceCall = Callable[[Campaign, Claim], Awaitable[CallRecord]]


class Recovery(Protocol):
    """Calls a dead worker left up on the PBX (the CallService does this over AMI)."""

    async def is_up(self, call_id: str) -> bool: ...

    async def recover(self, call_id: str) -> CallRecord | None:
        """Follow the call to its end: its completed record (None: it is gone)."""
        ...

    async def cdr(self, call_id: str) -> Cdr | None:
        """The PBX's record of a call that is gone (None: none known)."""
        ...


class Dialer:
    def __init__(
        self,
        store: Store,
        place: PlaceCall,
        *,
        worker: str,
        max_channels: int,
        capacity: int | None = None,
        trunks: Mapping[str, int] | None = None,
        recovery: Recovery | None = None,
        outbox: Outbox | None = None,
        pbx_away: Callable[[], str | None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tick: float = 1.0,
        silent_after: timedelta = timedelta(minutes=2),
        humans: HumanSide | None = None,
    ) -> None:
        self._store = store
        self._repo = store.campaigns
        self._place = place
        self.worker = worker
        self._max_channels = max_channels
        #: Conversations this worker holds within its latency target: it never has more calls up.
        self.capacity = capacity
        #: What kept due leads from being dialed in the last pass (None: nothing).
        self.held: str | None = None
        self._trunk_limits = dict(trunks or {})
        self._recovery = recovery
        #: Where attempts are closed: a database that is away delays the write, never loses it.
        self._outbox = outbox
        #: Why the PBX cannot take a call now (AMI down or frozen), or None.
        self._pbx_away = pbx_away
        self._per_trunk: dict[str, set[str]] = {}
        #: Per trunk ("" = the default channel template): paused while it refuses every call.
        self._health: dict[str, TrunkHealth] = {}
        #: How many calls the PBX itself holds, once it has refused one (pbx_error).
        self._ceiling = PbxCeiling()
        #: How many robot calls the agents can absorb, for campaigns paced to them.
        self._humans = humans
        self._clock = clock
        self._tick = tick
        self._silent_after = silent_after
        self._last_reconcile = 0.0
        self._calls: dict[str, asyncio.Task[None]] = {}  # call id -> its task
        self._per_campaign: dict[str, set[str]] = {}
        self._pacers: dict[str, Pacer] = {}
        self._wake = asyncio.Event()
        self._stopping = False

    @property
    def in_flight(self) -> int:
        return len(self._calls)

    def stop(self) -> None:
        """Dial nothing more; ``run`` returns when the calls in progress have ended."""
        self._stopping = True
        self._wake.set()

    async def run(self, campaigns: set[str] | None = None, *, until_idle: bool = False) -> None:
        """Dial running campaigns (all, or those named) until ``stop()``; with ``until_idle``,
        return once nothing is in flight and no lead of those campaigns is due.

        While the database is away (or the outbox still replays what calls wrote meanwhile)
        nothing is claimed; the calls in progress go on, and dialing resumes by itself. So too
        while the PBX is away (its AMI link down or frozen)."""
        reconciled = False
        try:
            while not self._stopping:
                try:
                    if (away := self._pbx_away()) is not None:
                        self._hold(away)
                        await self._heartbeat()  # alive, and saying why it does not dial
                        due = 1
                    elif self._outbox is not None and not self._outbox.available:
                        self._hold("database away: calls go on, their writes wait in the outbox")
                        due = 1
                    else:
                        if not reconciled:
                            await self._store.run(
                                self._repo.heartbeat, self.worker, self._clock(), capacity=self.capacity
                            )
                            await self.reconcile()
                            self._last_reconcile = time.monotonic()
                            reconciled = True
                        due = await self.pass_once(campaigns)
                except StoreUnavailable as e:  # calls in progress go on; try again next tick
                    self._hold(f"database away ({e.message.split(':')[0]})")
                    due = 1
                except VoicebotError as e:
                    log.error("scheduling pass failed: %s", e)
                    due = 1
                if until_idle and not due and not self._calls:
                    break
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self._tick)
                except TimeoutError:
                    pass
        except asyncio.CancelledError:
            # abandoned, not stopped: the calls go too; their attempts are reconciled on restart
            for task in self._calls.values():
                task.cancel()
            await asyncio.gather(*self._calls.values(), return_exceptions=True)
            raise
        await self.drain()

    async def drain(self) -> None:
        if self._calls:
            await asyncio.gather(*self._calls.values(), return_exceptions=True)

    def _worker_limit(self) -> tuple[int, str]:
        """Calls this worker may have up, and what that limit is, for the logs and status."""
        limit, why = self._max_channels, f"at [dialer] max_channels {self._max_channels}"
        if self.capacity is not None and self.capacity <= limit:
            limit, why = self.capacity, f"at capacity: {self.capacity} conversations"
        ceiling = self._ceiling.allowed(time.monotonic())
        if ceiling is not None and ceiling < limit:
            limit, why = ceiling, self._ceiling.held()
        return limit, why

    def _hold(self, reason: str | None) -> None:
        if reason != self.held:
            if reason is None:
                log.info("dialing resumed")
            else:
                log.info("dialing held: %s", reason)
        self.held = reason

    async def _heartbeat(self) -> None:
        await self._store.run(
            self._repo.heartbeat,
            self.worker,
            self._clock(),
            capacity=self.capacity,
            calls=len(self._calls),
            held=self.held,
        )

    async def pass_once(self, only: set[str] | None = None) -> int:
        """One scheduling pass over the running campaigns; how many of their leads are due now."""
        await self._heartbeat()
        if time.monotonic() - self._last_reconcile > RECONCILE_EVERY:
            # attempts of workers that died and stayed away; ours whose record write failed
            self._last_reconcile = time.monotonic()
            await self.reconcile()
        due = 0
        held: str | None = None
        limit, at_limit = self._worker_limit()
        for info in await self._store.run(self._repo.campaigns, "running"):
            if only is not None and info.id not in only:
                continue
            campaign = Campaign.model_validate(info.definition)
            mine = self._per_campaign.setdefault(campaign.id, set())
            free, blocker = limit - len(self._calls), at_limit
            if campaign.pacing.max_channels - len(mine) < free:
                free = campaign.pacing.max_channels - len(mine)
                blocker = f"campaign {campaign.id} at its max_channels {campaign.pacing.max_channels}"
            if campaign.trunk is not None:
                if campaign.trunk not in self._trunk_limits:
                    await self._suspend(
                        campaign.id, f"trunk {campaign.trunk!r} is not in this worker's settings"
                    )
                    continue
                on_trunk = self._per_trunk.setdefault(campaign.trunk, set())
                if self._trunk_limits[campaign.trunk] - len(on_trunk) < free:
                    free = self._trunk_limits[campaign.trunk] - len(on_trunk)
                    blocker = f"trunk {campaign.trunk} full ({self._trunk_limits[campaign.trunk]} channels)"
            health = self._trunk(campaign.trunk)
            allowed = health.allowed(time.monotonic())
            if allowed is not None and allowed < free:
                free, blocker = allowed, health.held(time.monotonic()) or blocker
            room = await self._humans.room(campaign, len(mine)) if self._humans else None
            if room is not None and room[0] < free:
                free, blocker = room
            # leads the rules turn away are rescheduled as they are met: keep claiming while some
            # were, so a closed window reschedules a big campaign in one pass, not over hours
            for _ in range(MAX_CLAIM_ROUNDS):
                if free <= 0:
                    break
                claims, skipped = await self._store.run(
                    self._repo.claim,
                    campaign.id,
                    campaign.policy(),
                    campaign.timezone,
                    self.worker,
                    free,
                    self._clock(),
                )
                for claim in claims:
                    self._start(campaign, claim)
                free -= len(claims)
                if not skipped:
                    break
            remaining = await self._store.run(self._repo.remaining, campaign.id, self._clock())
            due += remaining.get("due", 0)
            if free <= 0 and remaining.get("due", 0) and held is None:
                held = blocker
            if not mine and not remaining.get("pending") and not remaining.get("dialing"):
                await self._finish_campaign(campaign.id)
        self._hold(held)
        return due

    def _trunk(self, name: str | None) -> TrunkHealth:
        return self._health.setdefault(name or "", TrunkHealth(name or ""))

    async def _trunk_result(self, campaign: Campaign, call_id: str, result: AttemptResult) -> None:
        """Fold a call's end into its trunk's health and the PBX's ceiling: a trunk refusing
        everything is paused, a PBX that refused a call caps the calls (logged, audited, shown)."""
        if result.disposition == "pbx_error":
            up = len(self._calls) - (call_id in self._calls)
            capped = self._ceiling.refused(up, time.monotonic())
            await self._held_back("pbx_ceiling", capped, campaign, call_id, {"calls_up": up})
        paused = self._trunk(campaign.trunk).record(result.disposition, result.response, time.monotonic())
        if paused is not None:
            detail = {"trunk": campaign.trunk or "", "response": result.response or result.disposition}
            await self._held_back("trunk_paused", paused, campaign, call_id, detail)

    async def _held_back(
        self, action: str, reason: str, campaign: Campaign, call_id: str, detail: dict[str, Any]
    ) -> None:
        log.error("dialing held: %s", reason)
        try:
            await self._store.run(
                self._repo.note,
                self.worker,
                action,
                reason,
                campaign_id=campaign.id,
                call_id=call_id,
                detail=detail,
            )
        except VoicebotError as e:
            log.warning("%s not audited: %s", action, e)
        self._wake.set()

    async def _suspend(self, campaign_id: str, reason: str) -> None:
        """Pause a campaign that cannot call anyone as it stands (audited with the reason)."""
        log.error("campaign %s paused: %s", campaign_id, reason)
        try:
            await self._store.run(self._repo.set_state, campaign_id, "paused", self.worker, reason)
        except VoicebotError as e:  # already paused or stopped
            log.debug("campaign %s not paused: %s", campaign_id, e)

    async def _finish_campaign(self, campaign_id: str) -> None:
        try:
            await self._store.run(
                self._repo.set_state, campaign_id, "finished", self.worker, "every lead is done"
            )
        except VoicebotError as e:  # paused or stopped meanwhile: leave it
            log.debug("campaign %s not finished: %s", campaign_id, e)

    def _start(self, campaign: Campaign, claim: Claim) -> None:
        self._trunk(campaign.trunk).started()
        self._track(campaign, claim.call_id, self._dial(campaign, claim))

    def _track(self, campaign: Campaign, call_id: str, work: Coroutine[Any, Any, None]) -> None:
        """Run a call's task, counted against the worker's, campaign's and trunk's channels."""
        mine = self._per_campaign.setdefault(campaign.id, set())
        on_trunk = self._per_trunk.setdefault(campaign.trunk or "", set())
        mine.add(call_id)
        on_trunk.add(call_id)
        task = asyncio.create_task(work, name=f"call-{call_id}")
        self._calls[call_id] = task

        def done(_: asyncio.Task[None]) -> None:
            self._calls.pop(call_id, None)
            mine.discard(call_id)
            on_trunk.discard(call_id)
            self._wake.set()

        task.add_done_callback(done)

    async def _dial(self, campaign: Campaign, claim: Claim) -> None:
        lead = claim.lead
        try:
            pacer = self._pacers.get(campaign.id)
            if pacer is None or pacer.interval != 1.0 / campaign.pacing.calls_per_second:
                pacer = self._pacers[campaign.id] = Pacer(campaign.pacing.calls_per_second)
            await pacer.wait()
            # while this lead waited for its turn the number may have been blocked, or the campaign paused
            try:
                refused = await self._store.run(self._repo.still_dialable, lead.phone, campaign.id)
            except StoreUnavailable:  # it cannot be checked: not dialed, the attempt does not count
                refused = LeadStatus.PENDING, "database away before dialing"
            if refused is not None:
                status, reason = refused
                await self._write(
                    "cancel_claim",
                    call_id=claim.call_id,
                    lead_id=lead.id,
                    reason=reason,
                    status=status,
                    actor=self.worker,
                    now=self._clock(),
                )
                return
            try:
                result = AttemptResult.of(await self._place(campaign, claim))
            except ConfigError as e:
                # the campaign cannot call anyone (its script or trunk is wrong): not this lead's doing
                await self._write(
                    "cancel_claim",
                    call_id=claim.call_id,
                    lead_id=lead.id,
                    reason="campaign misconfigured",
                    status=LeadStatus.PENDING,
                    actor=self.worker,
                    now=self._clock(),
                )
                await self._suspend(campaign.id, e.message)
                return
            except VoicebotError as e:
                log.error("lead %s: call failed: %s", lead.id, e, extra={"call_id": claim.call_id})
                result = AttemptResult(disposition="failed")
            await self._trunk_result(campaign, claim.call_id, result)
            await self._close(campaign, claim.call_id, lead.timezone, result, self._clock(), "done")
        except Exception:  # one lead's failure never stops the dialer
            log.exception("lead %s: dialing failed", lead.id, extra={"call_id": claim.call_id})
        finally:
            self._trunk(campaign.trunk).probing = False  # a probe that never went out frees the trunk

    async def reconcile(self) -> list[InFlight]:
        """Attempts left ``dialing`` by this worker (it stopped mid-call), or by a worker whose
        heartbeat stopped (it died and stayed away).

        A completed call record gives the real result; a call the PBX still has (a callee
        talking with an agent) is followed to its end; any other call is marked unknown and
        its lead waits the campaign's ``unknown`` delay, never redialed at once.
        """
        now = self._clock()
        stale = await self._store.run(
            self._repo.in_flight, worker=self.worker, silent_since=now - self._silent_after
        )
        for attempt in stale:
            if attempt.call_id in self._calls:
                continue
            info = await self._store.run(self._repo.campaign, attempt.campaign_id)
            campaign = Campaign.model_validate(info.definition)
            lead = await self._store.run(self._repo.lead, attempt.lead_id)
            record = await self._store.get_call(attempt.call_id)
            zone = lead.timezone if lead else ""
            if record is not None and not record.completed and self._recovery is not None:
                try:
                    up = await self._recovery.is_up(attempt.call_id)
                except VoicebotError as e:
                    log.warning("cannot ask the PBX about call %s: %s", attempt.call_id, e)
                    up = False
                if up:  # it holds a channel until it ends: follow it like a call of ours
                    self._track(campaign, attempt.call_id, self._follow(campaign, attempt.call_id, zone))
                    continue
            await self._settle(campaign, attempt.call_id, zone, record, now)
        return stale

    async def _follow(self, campaign: Campaign, call_id: str, zone: str) -> None:
        assert self._recovery is not None
        try:
            try:
                record = await self._recovery.recover(call_id)
            except VoicebotError as e:
                log.error("lost call %s while following it: %s", call_id, e)
                record = None
            await self._settle(campaign, call_id, zone, record, self._clock())
        except Exception:  # one call's failure never stops the dialer
            log.exception("could not reconcile call %s", call_id, extra={"call_id": call_id})

    async def _close(
        self, campaign: Campaign, call_id: str, zone: str, result: AttemptResult, now: datetime, state: str
    ) -> None:
        """Close the attempt and move its lead on after ``result``."""
        await self._write(
            "finish_attempt",
            call_id=call_id,
            nxt=next_step(campaign, zone, result, now),
            disposition=result.disposition,
            outcome=result.outcome,
            grade=result.grade,
            actor=self.worker,
            state=state,
            now=now,
        )

    async def _write(self, name: str, **args: Any) -> None:
        """A write that must not be lost: through the worker's outbox (without one: at once)."""
        if self._outbox is None:
            await apply_now(self._store, name, **args)
        else:
            await self._outbox.write(name, **args)

    async def _settle(
        self, campaign: Campaign, call_id: str, zone: str, record: CallRecord | None, now: datetime
    ) -> None:
        if record is not None and not record.completed:
            # its worker died with it: close it with what its journal says the callee said
            fields = interrupted(record, await self._store.events(call_id))
            cdr = await self._recovery.cdr(call_id) if self._recovery is not None else None
            if cdr is not None:  # the PBX's word: real times, and why an unanswered call was
                fields = with_cdr(fields, cdr)
            record = await self._store.update_call(
                call_id,
                state="hungup",
                error="the dialing worker stopped during the call",
                completed_at=now,
                **fields,
            )
        result = AttemptResult.of(record) if record is not None else AttemptResult("unknown")
        state = "reconciled" if result.disposition != "unknown" else "unknown"
        await self._close(campaign, call_id, zone, result, now, state)
        log.warning("reconciled call %s left in flight: %s", call_id, result.disposition)

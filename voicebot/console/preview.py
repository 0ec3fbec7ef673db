"""Agents' preview calls: an agent calls one of their follow-ups from the console, under the
robot's own dial rules and audit.

The lead must be one of the agent's follow-ups. The campaign's do-not-call list, then the
robot's rules for the number (the global list, consent, the calling window in the callee's
zone, the caps, counting every call placed to it) decide, audited as ``dialed`` or ``skipped``
under the agent's name; an agent places at most ``[console] agent_daily_calls`` a day. The
agent's phone rings first (originated into ``voicebot-preview`` with the call id as its
channel's id); when they pick up, the PBX dials the lead over the campaign's trunk, showing the
campaign's number, and records the call. The record and a hand-off (queue ``preview``) let
the agent open the call and file its wrap-up.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

from voicebot.calls.closing import closing_fields
from voicebot.campaign.definition import Campaign
from voicebot.campaign.wayout import lead_target
from voicebot.config import Settings
from voicebot.console.auth import User
from voicebot.console.desk import Desk, Push
from voicebot.errors import ConsoleError, VoicebotError
from voicebot.store import CallRecord, Store
from voicebot.telephony.pbx import CallHandle, OriginateRequest, Pbx

log = logging.getLogger(__name__)
CONTEXT = "voicebot-preview"
#: How long the agent's phone rings, and how long the call may last before its record closes.
AGENT_RING = 30.0
MAX_CALL = 4 * 3600.0


class PreviewCalls:
    def __init__(self, store: Store, pbx: Pbx, settings: Settings, desk: Desk) -> None:
        self._store = store
        self._pbx = pbx
        self._settings = settings
        self._desk = desk
        self._tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def call(self, user: User, lead_id: int) -> str:
        """Place the agent's call to a lead; its call id. ConsoleError says why not."""
        store, repo = self._store, self._store.campaigns
        if not user.interface:
            raise ConsoleError("you have no phone to call from", hint="an admin sets your --interface")
        follow_ups = await store.run(store.console.follow_ups, user.id)
        asked = await store.run(store.inspections.follow_ups, assignee=user.username)  # QA's callbacks
        callbacks = {f.lead_id for f in asked if f.kind == "callback"}
        if lead_id not in {f.lead_id for f in follow_ups} | callbacks:
            raise ConsoleError("this lead is not one of your follow-ups")
        lead = await store.run(repo.lead, lead_id)
        if lead is None:
            raise ConsoleError("no such lead")
        info = await store.run(repo.campaign, lead.campaign_id)
        campaign = Campaign.model_validate(info.definition)
        now = store.now()
        midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        cap = self._settings.console.agent_daily_calls
        placed = await store.run(repo.count, actor=user.username, action="dialed", since=midnight)
        if placed >= cap:
            raise ConsoleError(f"you have placed your {cap} calls for today")
        if await store.run(repo.is_blocked, lead.phone, campaign.id):
            raise ConsoleError("the number is on a do-not-call list")
        try:
            target, shown = lead_target(self._settings, campaign, lead.phone)
        except VoicebotError as e:
            raise ConsoleError(f"the campaign cannot dial: {e.message}") from e
        call_id = str(uuid.uuid4())
        zone = lead.timezone or campaign.timezone
        go, decision = await store.run(
            repo.dial_adhoc,
            lead.phone,
            zone,
            campaign.policy(),
            call_id=call_id,
            actor=user.username,
            now=now,
        )
        if not go:
            raise ConsoleError(f"the dial rules refuse this call now: {decision.reason}")
        await store.create_call(
            CallRecord(
                id=call_id,
                destination=lead.phone,
                direction="preview",
                channel=target.channel,
                lead_id=str(lead.id),
                campaign_id=campaign.id,
                created_at=now,
            )
        )
        await store.run(
            store.console.offered, call_id, interface=user.interface, queue="preview", wait_seconds=None
        )
        request = OriginateRequest(
            call_id=call_id,
            channel=user.interface,
            context=CONTEXT,
            ring_timeout=AGENT_RING,
            caller_id=shown,
            variables={"VOICEBOT_CALL_ID": call_id, "VOICEBOT_DIAL": target.channel, "VOICEBOT_SHOWN": shown},
        )
        try:
            handle = await self._pbx.originate(request)
        except VoicebotError as e:
            await store.update_call(call_id, state="hungup", disposition="failed", error=e.message)
            raise ConsoleError(f"the PBX did not place the call: {e.message}") from e
        self._desk.push(
            user.id, Push("ring", {"call_id": call_id, "queue": "preview", "at": now.timestamp()})
        )
        task = asyncio.create_task(self._follow(call_id, handle), name=f"preview-{call_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return call_id

    async def _follow(self, call_id: str, handle: CallHandle) -> None:
        """Close the record when the call ends (the agent's leg: answered, talk time)."""
        error = None
        try:
            progress = await handle.wait_settled(timeout=MAX_CALL)
        except TimeoutError:
            progress, error = handle.progress, "preview call still up after 4 hours"
        _, fields = closing_fields(
            progress,
            None,
            error=error,
            machine=False,
            recording=f"voicebot/{call_id}.wav",
            now=datetime.now(UTC),
        )
        try:
            await self._store.update_call(call_id, **fields)
        except VoicebotError as e:
            log.error("preview call record not closed: %s", e, extra={"call_id": call_id})

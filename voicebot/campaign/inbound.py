"""Where a callee who calls back the robot's number goes, and who they are.

The caller's number (as the trunk gave it) becomes E.164 in the worker's region and finds the
lead the robot called last at that number, with its campaign (its queue, its agents' wait, its
script). The call goes to the agents' queue when the agents are on duty (``[inbound]
agent_hours`` in ``[inbound] timezone``) and at least one is logged in to the queue; else the bot
answers (the script's ``inbound`` node, or its ``no_agent`` apology and callback offer).
:func:`decide` is the pure rule; :class:`InboundRouter` reads the store and the PBX for it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from voicebot.calls.inbound import InboundRoute
from voicebot.campaign.definition import Campaign
from voicebot.campaign.leads import normalize_number
from voicebot.campaign.outcomes import AttemptResult, next_step
from voicebot.campaign.retry import Next
from voicebot.campaign.rules import CallingWindow
from voicebot.errors import VoicebotError
from voicebot.store import CallRecord, Store
from voicebot.store.dialing import LeadInfo
from voicebot.telephony.queues import QueueSummary

log = logging.getLogger(__name__)

#: queue name -> the queue now (voicebot.telephony.queues.QueueMembers.summary)
Summary = Callable[[str], Awaitable[QueueSummary]]


def decide(*, on_duty: bool, logged_in: int | None) -> tuple[bool, str]:
    """Whether an inbound call goes to the agents (else the bot), and why. Pure.

    Agents on duty with one logged in take it, even when all are busy: the caller waits with
    music and comes back to the bot (apology, callback) after the campaign's wait.
    """
    if not on_duty:
        return False, "outside the agents' hours"
    if logged_in is None:
        return False, "the agents' queue could not be read"
    if logged_in <= 0:
        return False, "no agent logged in"
    return True, f"agents on duty ({logged_in} logged in)"


def caller_number(caller_id: str, region: str) -> str | None:
    """The caller's number in E.164, or None (withheld, anonymous, not a valid number). Pure."""
    if not caller_id or not any(c.isdigit() for c in caller_id):
        return None
    try:
        return normalize_number(caller_id, region)
    except ValueError:
        return None


def after_inbound(campaign: Campaign, zone: str, record: CallRecord, now: datetime) -> Next | None:
    """What a lead's inbound call changes: a callback the callee asked the bot for (moved into the
    campaign's calling window), else nothing (an agent's wrap-up moves the lead; an opt-out puts
    the number on the do-not-call list at once). Pure."""
    if record.callback is None or record.opted_out:
        return None
    return next_step(campaign, zone, AttemptResult.of(record), now)


@dataclass(frozen=True, slots=True)
class Caller:
    """An inbound call's route, and the lead and campaign its caller is (None: unknown)."""

    route: InboundRoute
    lead: LeadInfo | None = None
    campaign: Campaign | None = None


class InboundRouter:
    def __init__(
        self,
        store: Store,
        summary: Summary,
        *,
        agent_hours: CallingWindow,
        timezone: str,
        region: str,
        queue: str,
        agent_wait: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._summary = summary
        self._hours = agent_hours
        self._zone = ZoneInfo(timezone)
        self._region = region
        self._queue = queue
        self._agent_wait = agent_wait
        self._clock = clock

    async def route(self, caller_id: str) -> Caller:
        phone = caller_number(caller_id, self._region)
        found = await self._store.run(self._store.campaigns.calling_back, phone) if phone else None
        lead, campaign = None, None
        if found is not None:
            lead = found[0]
            try:
                campaign = Campaign.model_validate(found[1])
            except ValidationError as e:  # the lead is known; its campaign's own settings are not
                log.warning("campaign %s of an inbound caller does not load: %s", lead.campaign_id, e)
        queue = (campaign.queue if campaign else None) or self._queue
        wait = (campaign.agent_wait if campaign else None) or self._agent_wait
        on_duty = self._hours.check(self._clock().astimezone(self._zone)) is None
        logged_in = None
        if on_duty:
            try:
                logged_in = (await self._summary(queue)).logged_in
            except VoicebotError as e:
                log.error("inbound call: queue %s not read: %s", queue, e.message)
        to_agents, why = decide(on_duty=on_duty, logged_in=logged_in)
        route = InboundRoute(
            to_agents=to_agents,
            why=why,
            phone=phone,
            lead_id=lead.id if lead else None,
            campaign_id=lead.campaign_id if lead else None,
            queue=queue,
            agent_wait=wait,
        )
        return Caller(route, lead, campaign)

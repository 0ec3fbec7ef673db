"""How a campaign reaches a lead: its trunk's channel for the number, and the number it shows."""

from __future__ import annotations

from voicebot.calls.destination import Destination, resolve
from voicebot.campaign.callerid import caller_id_for
from voicebot.campaign.definition import Campaign
from voicebot.config import Settings


def lead_target(settings: Settings, campaign: Campaign, phone: str) -> tuple[Destination, str]:
    """How a campaign reaches a lead's number (its trunk's channel) and the number it shows:
    the robot's calls and agents' preview calls alike."""
    way = settings.way_out(campaign.trunk)
    caller_id = caller_id_for(
        campaign.caller_id,
        default=way.caller_id,
        allowed=way.caller_ids,
        trunk=campaign.trunk or "",
        region=campaign.region,
    )
    target = resolve(
        phone,
        template=way.channel_template,
        number_format=way.number_format or settings.dial.number_format,
        region=campaign.region,
    )
    return target, caller_id

"""What one attempt came to, and the lead's next state from it. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from voicebot.campaign.callbacks import parse_callback
from voicebot.campaign.definition import Campaign
from voicebot.campaign.retry import Next
from voicebot.store import CallRecord


@dataclass(frozen=True, slots=True)
class AttemptResult:
    disposition: str
    outcome: str | None = None
    grade: str | None = None
    opted_out: bool = False
    callback: str | None = None  # the callee's words, or "unspecified"; None: no callback asked
    response: str | None = None  # the SIP response that ended it unanswered ("403 Forbidden")

    @classmethod
    def of(cls, record: CallRecord) -> AttemptResult:
        return cls(
            record.disposition or "unknown",
            record.outcome,
            record.grade,
            record.opted_out,
            record.callback,
            record.sip_response,
        )


def next_step(campaign: Campaign, lead_zone: str, result: AttemptResult, now: datetime) -> Next:
    """The lead's next state after an attempt: retry per outcome, callback moved into the window. Pure."""
    zone = ZoneInfo(lead_zone or campaign.timezone)
    callback_at = None
    if result.callback is not None:
        local = now.astimezone(zone)
        when = parse_callback(None if result.callback == "unspecified" else result.callback, local)
        when = when or local + campaign.retry.callback_default
        opened = campaign.policy().window.next_open(when)
        callback_at = (opened or when).astimezone(UTC)
    return campaign.retry_policy().after(
        result.disposition,
        now,
        opted_out=result.opted_out,
        callback_at=callback_at,
        callback_requested=result.callback is not None,
    )

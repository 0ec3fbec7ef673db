"""Calls outside any campaign (``voicebot call NUMBER``): the same dial rules and the same audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from voicebot.campaign.rules import Decision, Lead, Policy, Skip
from voicebot.store.audit import _audit
from voicebot.store.dnc import _blocked
from voicebot.store.history import call_history
from voicebot.store.models import LeadRow

#: How far back start times matter to the caps (the lifetime cap counts every call).
RECENT_DAYS = 8


class AdhocCalls:
    """The rule check of an ad-hoc call (a part of :class:`voicebot.store.campaigns.CampaignRepo`)."""

    _sessions: sessionmaker[Session]
    _now: Callable[[], datetime]

    def dial_adhoc(
        self,
        phone: str,
        zone: str,
        policy: Policy,
        *,
        call_id: str,
        actor: str,
        override: str | None = None,
        now: datetime | None = None,
    ) -> tuple[bool, Decision]:
        """May ``phone`` be called now outside a campaign? Decided under ``policy`` against every
        call already placed to it and the global do-not-call list; consent is that of any lead
        with this number. ``override`` (the operator's reason) lets a call the window, a cap or
        consent would refuse go ahead; a do-not-call entry it never overrides. Audited either way.
        """
        now = (now or self._now()).astimezone(UTC)
        with self._sessions.begin() as s:
            blocked = _blocked(s, [phone], "")
            recent, totals = call_history(s, [phone], now - timedelta(days=RECENT_DAYS))
            consent = (
                s.scalar(
                    select(LeadRow.id)
                    .where(LeadRow.phone == phone, LeadRow.consent_source.is_not(None))
                    .limit(1)
                )
                is not None
            )
            decision = policy.decide(
                Lead(phone, zone, consent=consent),
                now,
                recent.get(phone, ()),
                blocked,
                lifetime_attempts=totals.get(phone, 0),
            )
            go = decision.allowed or (override is not None and decision.reason is not Skip.DO_NOT_CALL)
            detail: dict[str, str | None]
            if decision.allowed:
                action, reason, detail = "dialed", "ad-hoc call", {}
            elif go:
                action, reason = "dialed", f"override: {override}"
                detail = {"overridden": str(decision.reason)}
            else:
                action, reason = "skipped", str(decision.reason)
                detail = {"retry_at": decision.retry_at.isoformat() if decision.retry_at else None}
            _audit(s, now, actor, action, reason, phone=phone, call_id=call_id, detail=detail)
            return go, decision

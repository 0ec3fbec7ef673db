"""Do-not-call lists: the global one and each campaign's, with audited changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from voicebot.campaign.retry import LeadStatus
from voicebot.store.audit import _audit
from voicebot.store.models import DoNotCallRow, LeadRow
from voicebot.store.models import aware as _aware

GLOBAL = "*"


@dataclass(frozen=True, slots=True)
class DncEntry:
    phone: str
    scope: str
    reason: str
    added_by: str
    added_at: datetime
    call_id: str | None


class DoNotCallLists:
    """The lists (a part of :class:`voicebot.store.campaigns.CampaignRepo`)."""

    _sessions: sessionmaker[Session]
    _now: Callable[[], datetime]

    def dnc_add(
        self,
        phones: Iterable[str],
        *,
        scope: str = GLOBAL,
        reason: str,
        actor: str,
        call_id: str | None = None,
    ) -> int:
        """Put numbers on a list (idempotent); their pending leads stop at once. How many were new."""
        now = self._now()
        added = 0
        with self._sessions.begin() as s:
            insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
            wanted = list(dict.fromkeys(phones))
            for chunk in _chunks(wanted):
                have = set(
                    s.scalars(
                        select(DoNotCallRow.phone).where(
                            DoNotCallRow.phone.in_(chunk), DoNotCallRow.scope == scope
                        )
                    )
                )
                for phone in chunk:
                    if phone in have:
                        continue
                    values = {
                        "phone": phone,
                        "scope": scope,
                        "reason": reason,
                        "added_by": actor,
                        "call_id": call_id,
                        "added_at": now,
                    }
                    result = s.execute(insert(DoNotCallRow).values(**values).on_conflict_do_nothing())
                    if result.rowcount:  # type: ignore[attr-defined]
                        added += 1
                        _audit(
                            s,
                            now,
                            actor,
                            "dnc_add",
                            reason,
                            phone=phone,
                            call_id=call_id,
                            campaign_id=None if scope == GLOBAL else scope,
                        )
                leads = update(LeadRow).where(
                    LeadRow.phone.in_(chunk),
                    LeadRow.status.in_(
                        [LeadStatus.PENDING.value, LeadStatus.NO_CONSENT.value, LeadStatus.AGENT.value]
                    ),
                )
                if scope != GLOBAL:
                    leads = leads.where(LeadRow.campaign_id == scope)
                s.execute(
                    leads.values(
                        status=LeadStatus.DO_NOT_CALL.value, last_reason="do-not-call", updated_at=now
                    ).execution_options(synchronize_session=False)
                )
        return added

    def dnc_remove(self, phone: str, *, scope: str = GLOBAL, reason: str, actor: str) -> bool:
        now = self._now()
        with self._sessions.begin() as s:
            row = s.scalar(
                select(DoNotCallRow).where(DoNotCallRow.phone == phone, DoNotCallRow.scope == scope)
            )
            if row is None:
                return False
            detail = {
                "added_at": _aware(row.added_at).isoformat(),
                "added_reason": row.reason,
                "added_by": row.added_by,
            }
            s.delete(row)
            _audit(
                s,
                now,
                actor,
                "dnc_remove",
                reason,
                phone=phone,
                campaign_id=None if scope == GLOBAL else scope,
                detail=detail,
            )
            return True

    def dnc_check(self, phone: str) -> list[DncEntry]:
        with self._sessions() as s:
            rows = s.scalars(
                select(DoNotCallRow).where(DoNotCallRow.phone == phone).order_by(DoNotCallRow.id)
            )
            return [
                DncEntry(r.phone, r.scope, r.reason, r.added_by, _aware(r.added_at), r.call_id) for r in rows
            ]

    def is_blocked(self, phone: str, campaign_id: str) -> bool:
        with self._sessions() as s:
            return bool(_blocked(s, [phone], campaign_id))


def _blocked(s: Session, phones: Sequence[str], campaign_id: str) -> set[str]:
    return set(
        s.scalars(
            select(DoNotCallRow.phone).where(
                DoNotCallRow.phone.in_(phones), DoNotCallRow.scope.in_([GLOBAL, campaign_id])
            )
        )
    )


def _chunks(items: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]

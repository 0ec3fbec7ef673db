"""What voicebot already did to a number: the history the dial caps count."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voicebot.store.models import AttemptRow, Call
from voicebot.store.models import aware as _aware


def call_history(
    s: Session, phones: Sequence[str], since: datetime
) -> tuple[dict[str, tuple[datetime, ...]], dict[str, int]]:
    """Every call voicebot placed to these numbers: the dialer's attempts and the calls placed
    without one (``voicebot call``) alike, as (recent start times, lifetime count) per number."""
    adhoc = (Call.destination.in_(phones), Call.id.not_in(select(AttemptRow.call_id)))
    recent: dict[str, list[datetime]] = defaultdict(list)
    for query in (
        select(AttemptRow.phone, AttemptRow.started_at).where(
            AttemptRow.phone.in_(phones), AttemptRow.started_at >= since
        ),
        select(Call.destination, Call.created_at).where(*adhoc, Call.created_at >= since),
    ):
        for phone, at in s.execute(query):
            recent[phone].append(_aware(at))
    totals: dict[str, int] = defaultdict(int)
    for counts in (
        select(AttemptRow.phone, func.count()).where(AttemptRow.phone.in_(phones)).group_by(AttemptRow.phone),
        select(Call.destination, func.count()).where(*adhoc).group_by(Call.destination),
    ):
        for phone, count in s.execute(counts):
            totals[phone] += count
    return {k: tuple(v) for k, v in recent.items()}, dict(totals)

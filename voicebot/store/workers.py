"""Dialer workers' heartbeats: alive, how many conversations each holds, what holds it back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from voicebot.store.models import WorkerRow
from voicebot.store.models import aware as _aware


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    name: str
    seen_at: datetime
    capacity: int | None  # conversations it holds at once within its latency target
    calls: int  # its calls up at the last beat
    held: str | None  # what kept it from dialing due leads (None: nothing)


class WorkerBeats:
    """The heartbeats (a part of :class:`voicebot.store.campaigns.CampaignRepo`)."""

    _sessions: sessionmaker[Session]
    _now: Callable[[], datetime]

    def heartbeat(
        self,
        worker: str,
        now: datetime | None = None,
        *,
        capacity: int | None = None,
        calls: int = 0,
        held: str | None = None,
    ) -> None:
        """This worker is alive: its in-flight attempts are not anyone else's to reconcile."""
        now = now or self._now()
        with self._sessions.begin() as s:
            row = s.get(WorkerRow, worker)
            if row is None:
                row = WorkerRow(name=worker)
                s.add(row)
            row.seen_at, row.capacity, row.calls, row.held = now, capacity, calls, held

    def workers(self) -> list[WorkerInfo]:
        with self._sessions() as s:
            return [
                WorkerInfo(r.name, _aware(r.seen_at), r.capacity, r.calls, r.held)
                for r in s.scalars(select(WorkerRow).order_by(WorkerRow.name))
            ]

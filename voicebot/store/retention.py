"""Personal data past its age: recordings deleted, transcripts and call timelines removed,
call records anonymized, untouched leads deleted, phone numbers in old audit entries masked.

The do-not-call lists are kept whatever their age (a number that asked not to be called
must stay blocked), and every run that removed anything is itself audited (``retention``)
with its counts and cut-offs. Work is done in batches, so a first run over years of calls
holds no long transaction and no large list in memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import String, cast, delete, func, null, select, update
from sqlalchemy.orm import Session, sessionmaker

from voicebot.store.audit import _audit
from voicebot.store.models import AttemptRow, AuditRow, Call, CallEventRow, LeadRow

BATCH = 500
_DIGITS = re.compile(r"\d{3,}")
REDACTED = "(redacted)"


def mask(text: str | None) -> str | None:
    """A phone number or channel without the subscriber: ``+8613800138000`` -> ``+86 (redacted)``,
    ``PJSIP/13800138000@trunk`` -> ``PJSIP/(redacted)@trunk``. Pure."""
    if not text or REDACTED in text:
        return text
    if text.startswith("+"):
        try:
            return f"+{phonenumbers.parse(text).country_code} {REDACTED}"
        except phonenumbers.NumberParseException:
            pass
    return _DIGITS.sub(REDACTED, text)


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Data older than each time is due (None: kept forever)."""

    recordings: datetime | None = None
    transcripts: datetime | None = None
    calls: datetime | None = None
    leads: datetime | None = None
    audit: datetime | None = None

    @classmethod
    def of(cls, now: datetime, **days: int) -> Cutoffs:
        """``Cutoffs.of(now, recordings=180, ...)``: 0 days keeps forever. Pure."""
        return cls(**{k: now - timedelta(days=d) if d else None for k, d in days.items()})


@dataclass(frozen=True, slots=True)
class Purged:
    recordings: int = 0  # recording files deleted (or already gone) and unlinked from their calls
    recordings_missing: int = 0  # of those, the files that were not there to delete
    transcripts: int = 0  # calls whose transcript and timeline were removed
    calls: int = 0  # call records anonymized
    leads: int = 0  # leads deleted
    audit: int = 0  # audit entries whose phone number was masked

    @property
    def total(self) -> int:
        return self.recordings + self.transcripts + self.calls + self.leads + self.audit

    def __add__(self, other: Purged) -> Purged:
        return Purged(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


class RetentionRepo:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    def due(self, cut: Cutoffs) -> Purged:
        """What :meth:`purge` would remove now (a dry run)."""
        with self._sessions() as s:

            def count(q: Any) -> int:
                return int(s.scalar(select(func.count()).select_from(q.subquery())) or 0)

            return Purged(
                recordings=count(_recordings_due(cut)) if cut.recordings else 0,
                transcripts=count(_transcripts_due(cut)) if cut.transcripts else 0,
                calls=count(_calls_due(cut)) if cut.calls else 0,
                leads=count(_leads_due(cut)) if cut.leads else 0,
                audit=count(_audit_due(cut)) if cut.audit else 0,
            )

    def purge(self, cut: Cutoffs, *, delete_recording: Callable[[str], bool], actor: str) -> Purged:
        """Remove what is due; ``delete_recording(relative path)`` deletes one file and says
        whether it was there. Audited when anything was removed."""
        done = Purged()
        if cut.recordings:
            done += self._batches(lambda s: self._recordings(s, cut, delete_recording))
        if cut.transcripts:
            done += self._batches(lambda s: self._transcripts(s, cut))
        if cut.calls:
            done += self._batches(lambda s: self._calls(s, cut))
        if cut.leads:
            done += self._batches(lambda s: self._leads(s, cut))
        if cut.audit:
            done += self._batches(lambda s: self._audit(s, cut))
        if done.total:
            with self._sessions.begin() as s:
                cutoffs = {k: v.isoformat() for k, v in asdict(cut).items() if v is not None}
                _audit(
                    s,
                    self._now(),
                    actor,
                    "retention",
                    "personal data past its age",
                    detail={**{k: v for k, v in asdict(done).items()}, "cutoffs": cutoffs},
                )
        return done

    def _batches(self, step: Callable[[Session], Purged]) -> Purged:
        done = Purged()
        while True:
            with self._sessions.begin() as s:
                batch = step(s)
            done += batch
            if batch.total < BATCH:
                return done

    @staticmethod
    def _recordings(s: Session, cut: Cutoffs, delete_recording: Callable[[str], bool]) -> Purged:
        rows = s.execute(_recordings_due(cut).limit(BATCH)).all()
        missing = sum(not delete_recording(recording) for _, recording in rows)
        ids = [call_id for call_id, _ in rows]
        if ids:
            s.execute(update(Call).where(Call.id.in_(ids)).values(recording=None))
        return Purged(recordings=len(ids), recordings_missing=missing)

    @staticmethod
    def _transcripts(s: Session, cut: Cutoffs) -> Purged:
        ids = list(s.scalars(_transcripts_due(cut).limit(BATCH)))
        if ids:
            s.execute(update(Call).where(Call.id.in_(ids)).values(transcript=null()))
            s.execute(delete(CallEventRow).where(CallEventRow.call_id.in_(ids)))
        return Purged(transcripts=len(ids))

    def _calls(self, s: Session, cut: Cutoffs) -> Purged:
        rows = s.execute(
            select(Call.id, Call.destination, Call.channel).where(*_calls_where(cut)).limit(BATCH)
        )
        n = 0
        for call_id, destination, channel in rows.all():
            s.execute(
                update(Call)
                .where(Call.id == call_id)
                .values(
                    destination=mask(destination) or "",
                    channel=mask(channel) or "",
                    transcript=null(),
                    error=None,
                    redacted_at=self._now(),
                )
            )
            s.execute(delete(CallEventRow).where(CallEventRow.call_id == call_id))
            s.execute(update(AttemptRow).where(AttemptRow.call_id == call_id).values(phone=mask(destination)))
            n += 1
        return Purged(calls=n)

    @staticmethod
    def _leads(s: Session, cut: Cutoffs) -> Purged:
        ids = list(s.scalars(_leads_due(cut).limit(BATCH)))
        if ids:
            s.execute(delete(AttemptRow).where(AttemptRow.lead_id.in_(ids)))
            s.execute(delete(LeadRow).where(LeadRow.id.in_(ids)))
        return Purged(leads=len(ids))

    @staticmethod
    def _audit(s: Session, cut: Cutoffs) -> Purged:
        rows = s.execute(_audit_due(cut).limit(BATCH)).all()
        for entry_id, phone in rows:
            s.execute(update(AuditRow).where(AuditRow.id == entry_id).values(phone=mask(phone)))
        return Purged(audit=len(rows))


def _recordings_due(cut: Cutoffs) -> Any:
    return select(Call.id, Call.recording).where(
        Call.recording.is_not(None), Call.created_at < cut.recordings
    )


def _transcripts_due(cut: Cutoffs) -> Any:
    has_events = select(CallEventRow.id).where(CallEventRow.call_id == Call.id).exists()
    # a JSON column may hold JSON null rather than SQL NULL: both mean no transcript
    kept = Call.transcript.is_not(None) & (cast(Call.transcript, String) != "null")
    return select(Call.id).where(Call.created_at < cut.transcripts, kept | has_events)


def _calls_where(cut: Cutoffs) -> tuple[Any, ...]:
    return Call.created_at < cut.calls, Call.redacted_at.is_(None)


def _calls_due(cut: Cutoffs) -> Any:
    return select(Call.id).where(*_calls_where(cut))


def _leads_due(cut: Cutoffs) -> Any:
    return select(LeadRow.id).where(LeadRow.updated_at < cut.leads, LeadRow.status != "dialing")


def _audit_due(cut: Cutoffs) -> Any:
    return select(AuditRow.id, AuditRow.phone).where(
        AuditRow.at < cut.audit, AuditRow.phone.is_not(None), ~AuditRow.phone.contains(REDACTED)
    )

"""The call store: repositories over SQLAlchemy 2.0, called from asyncio.

Database work runs on one worker thread per store, so the event loop never
blocks on it and SQLite sees a single writer. Rows leave this module as frozen
dataclasses; sqlalchemy objects never do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.orm import sessionmaker

from voicebot.errors import StoreError, StoreUnavailable
from voicebot.store.board import BoardRepo
from voicebot.store.campaigns import CampaignRepo
from voicebot.store.console import ConsoleRepo
from voicebot.store.inspections import InspectionQueue
from voicebot.store.models import Call, CallEventRow
from voicebot.store.models import aware as _aware
from voicebot.store.quality import QualityRepo
from voicebot.store.reports import ReportReads
from voicebot.store.retention import RetentionRepo

P = ParamSpec("P")
T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CallRecord:
    id: str
    destination: str
    direction: str = "outbound"
    channel: str = ""
    lead_id: str | None = None
    campaign_id: str | None = None
    state: str = "pending"
    disposition: str | None = None
    hangup_cause: int | None = None
    hangup_cause_text: str | None = None
    sip_response: str | None = None
    end_reason: str | None = None
    error: str | None = None
    created_at: datetime | None = None
    originated_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    completed_at: datetime | None = None
    ring_seconds: float | None = None
    talk_seconds: float | None = None
    recording: str | None = None
    bot_audio_seconds: float | None = None
    callee_audio_seconds: float | None = None
    callee_audio_rms: float | None = None
    transcript: list[dict[str, Any]] | None = None
    outcome: str | None = None
    grade: str | None = None
    node_path: list[str] | None = None
    intents: list[str] | None = None
    opted_out: bool = False
    callback: str | None = None
    redacted_at: datetime | None = None

    @property
    def completed(self) -> bool:
        return self.completed_at is not None


@dataclass(frozen=True, slots=True)
class EventRecord:
    call_id: str
    at: datetime
    kind: str
    data: dict[str, Any]


_CALL_FIELDS = {f.name for f in dataclasses.fields(CallRecord)}


def _record(row: Call) -> CallRecord:
    return CallRecord(**{name: _aware(getattr(row, name)) for name in _CALL_FIELDS})


def store_error(e: SQLAlchemyError, where: str) -> StoreError:
    """The one translation of a database error: an outage (the server cannot be reached, the
    connection dropped, SQLite busy) is ``StoreUnavailable``; anything else ``StoreError``."""
    text = f"database error in {where}: {e.__class__.__name__}: {e.args[0] if e.args else e}"
    away = isinstance(e, OperationalError | InterfaceError | SATimeoutError) or (
        isinstance(e, DBAPIError) and e.connection_invalidated
    )
    if away:
        return StoreUnavailable(text, hint="check the database server is up and reachable")
    return StoreError(text, hint="check the database is reachable and migrated (voicebot db upgrade)")


def _storage_error(fn: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except SQLAlchemyError as e:
            raise store_error(e, fn.__name__) from e

    return wrapper


def _translated(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return fn(*args, **kwargs)
    except SQLAlchemyError as e:
        raise store_error(e, getattr(fn, "__name__", "the store")) from e


class Store:
    """Calls and their events, in SQLite (default) or PostgreSQL (by URL)."""

    def __init__(self, url: str, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            # a server that does not answer is an outage after 5 s, not a hung call
            connect = {"connect_timeout": 5} if url.startswith("postgresql") else {}
            self._engine: Engine = create_engine(url, pool_pre_ping=True, connect_args=connect)
        except (SQLAlchemyError, ImportError) as e:
            raise StoreError(
                f"cannot use database URL {_redact(url)}: {e}",
                hint="use sqlite:///PATH or postgresql+psycopg://USER:PASS@HOST/DB",
            ) from e
        if url.startswith("sqlite"):
            event.listen(self._engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        #: "Now" for records (tests inject a clock).
        self.now = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        #: Campaigns, leads, attempts, do-not-call lists, audit (sync; ``await store.run(...)``).
        self.campaigns = CampaignRepo(self._sessions, clock)
        #: Personal data past its age (sync; ``await store.run(...)``).
        self.retention = RetentionRepo(self._sessions, clock)
        #: Console users, logins, agents' states, hand-offs (sync; ``await store.run(...)``).
        self.console = ConsoleRepo(self._sessions, clock)
        self.quality = QualityRepo(self._sessions, clock)
        self.inspections = InspectionQueue(self._sessions, clock)
        self.reports = ReportReads(self._sessions, clock)
        #: The supervisor's wall-board (sync; ``await store.run(...)``).
        self.board = BoardRepo(self._sessions, clock)

    # -- schema -----------------------------------------------------------------------
    def _alembic(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self._engine
        return config

    @_storage_error
    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent)."""
        command.upgrade(self._alembic(), "head")

    @_storage_error
    def revision(self) -> tuple[str | None, str | None]:
        """(current revision of the database, newest revision this version knows)."""
        head = ScriptDirectory.from_config(self._alembic()).get_current_head()
        with self._engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        return current, head

    def check_schema(self) -> None:
        current, head = self.revision()
        if current != head:
            raise StoreError(
                f"database {_redact(self.url)} is at schema revision {current or 'none'}, "
                f"this voicebot needs {head}",
                hint="run: voicebot db upgrade",
            )

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._engine.dispose()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a sync store method on the store's thread; database errors become ``StoreError``
        (``StoreUnavailable`` for an outage), whichever repository raised them."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(_translated, fn, *args, **kwargs))

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    # -- calls ------------------------------------------------------------------------
    async def create_call(self, record: CallRecord) -> CallRecord:
        return await self._run(self.create_call_sync, record)

    @_storage_error
    def create_call_sync(self, record: CallRecord, *, exist_ok: bool = False) -> CallRecord:
        """Write a new call record (``exist_ok``: a replayed write of one already there is a no-op)."""
        values = {k: v for k, v in dataclasses.asdict(record).items() if v is not None}
        values.setdefault("created_at", self.now())  # the caps count calls by it
        with self._sessions.begin() as session:
            if exist_ok and (existing := session.get(Call, record.id)) is not None:
                return _record(existing)
            row = Call(**values)
            session.add(row)
            session.flush()
            return _record(row)

    async def update_call(self, call_id: str, **fields: Any) -> CallRecord:
        return await self._run(self.update_call_sync, call_id, fields)

    @_storage_error
    def update_call_sync(self, call_id: str, fields: dict[str, Any]) -> CallRecord:
        unknown = set(fields) - _CALL_FIELDS
        if unknown:
            raise StoreError(f"unknown call fields: {sorted(unknown)}")
        with self._sessions.begin() as session:
            row = session.get(Call, call_id)
            if row is None:
                raise StoreError(f"no call {call_id}")
            for name, value in fields.items():
                setattr(row, name, value)
            session.flush()
            return _record(row)

    async def add_event(
        self, call_id: str, kind: str, data: dict[str, Any] | None = None, at: datetime | None = None
    ) -> None:
        await self._run(self.add_event_sync, call_id, kind, data or {}, at or utcnow())

    @_storage_error
    def add_event_sync(self, call_id: str, kind: str, data: dict[str, Any], at: datetime) -> None:
        with self._sessions.begin() as session:
            session.add(CallEventRow(call_id=call_id, kind=kind, data=data, at=at))

    async def get_call(self, call_id: str) -> CallRecord | None:
        return await self._run(self.get_call_sync, call_id)

    @_storage_error
    def get_call_sync(self, call_id: str) -> CallRecord | None:
        with self._sessions() as session:
            row = session.get(Call, call_id)
            return _record(row) if row else None

    async def events(self, call_id: str) -> list[EventRecord]:
        return await self._run(self.events_sync, call_id)

    @_storage_error
    def events_sync(self, call_id: str) -> list[EventRecord]:
        with self._sessions() as session:
            rows = session.scalars(
                select(CallEventRow).where(CallEventRow.call_id == call_id).order_by(CallEventRow.id)
            )
            return [EventRecord(r.call_id, _aware(r.at), r.kind, dict(r.data)) for r in rows]

    async def recent_calls(self, limit: int = 20) -> list[CallRecord]:
        return await self._run(self.recent_calls_sync, limit)

    @_storage_error
    def recent_calls_sync(self, limit: int = 20) -> list[CallRecord]:
        with self._sessions() as session:
            rows = session.scalars(select(Call).order_by(Call.created_at.desc()).limit(limit))
            return [_record(r) for r in rows]

    @_storage_error
    def calls_starting_with_sync(self, prefix: str, limit: int = 2) -> list[CallRecord]:
        """Calls whose id starts with ``prefix`` (an operator types the first characters)."""
        with self._sessions() as session:
            rows = session.scalars(
                select(Call).where(Call.id.startswith(prefix, autoescape=True)).order_by(Call.id).limit(limit)
            )
            return [_record(r) for r in rows]

    @_storage_error
    def last_conversation_sync(self, lead_id: str, before: datetime) -> CallRecord | None:
        """The lead's last call with a transcript before ``before`` (what the robot and the lead
        said: shown to the agent who takes the lead's call back)."""
        with self._sessions() as session:
            row = session.scalars(
                select(Call)
                .where(Call.lead_id == lead_id, Call.created_at < before, Call.transcript.is_not(None))
                .order_by(Call.created_at.desc())
                .limit(1)
            ).first()
            return _record(row) if row is not None else None

    @_storage_error
    def wav_recordings_sync(self, ended_before: datetime, limit: int = 200) -> list[tuple[str, str]]:
        """Calls completed before ``ended_before`` whose recording is still a WAV: (id, recording)."""
        with self._sessions() as session:
            rows = session.execute(
                select(Call.id, Call.recording)
                .where(Call.recording.like("%.wav"), Call.completed_at < ended_before.astimezone(UTC))
                .order_by(Call.completed_at)
                .limit(limit)
            ).all()
            return [(call_id, recording or "") for call_id, recording in rows]

    @_storage_error
    def incomplete_calls_sync(self) -> list[CallRecord]:
        with self._sessions() as session:
            rows = session.scalars(select(Call).where(Call.completed_at.is_(None)))
            return [_record(r) for r in rows]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _redact(url: str) -> str:
    """A database URL without its password, for messages and logs."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, creds = head.partition("//")
    user = creds.split(":", 1)[0]
    return f"{scheme}//{user}:***@{tail}"

"""Writes that must not be lost: straight to the database while it answers, to a local durable
file while it does not, replayed in order when it is back.

A call in progress writes its record, its events, the opt-out of its number and, at its
end, the close of its dial attempt. None of that may wait for the database or be lost
with it: a database that blinks must not drop a call, and a call must not lose what it
learned. So every such write goes through the outbox:

- while the database answers, the write is applied at once (in order: one at a time);
- when it fails because the database cannot be reached (``StoreUnavailable``), that write
  and every later one are appended to ``outbox.jsonl`` (fsync'd) instead, and a replayer
  probes the database every ``retry_every`` seconds;
- once it answers, the file is replayed in order, progress kept in ``outbox.done`` so a
  crash during the replay repeats nothing (each write is also idempotent), and writes go
  straight to the database again.

A worker that starts with a non-empty file replays it before anything else. A write the
database refuses for another reason (a bug, not an outage) is kept in
``outbox.rejected.jsonl`` with the error, never dropped silently.

``available`` is False while writes wait: the dialer claims no lead then (it would read a
database that is behind). The log says so once per change, not once per write.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from voicebot.campaign.retry import LeadStatus, Next
from voicebot.errors import StoreUnavailable, VoicebotError
from voicebot.store.repo import CallRecord, Store

log = logging.getLogger(__name__)


def _apply_create_call(store: Store, record: dict[str, Any]) -> None:
    store.create_call_sync(CallRecord(**record), exist_ok=True)


def _apply_update_call(store: Store, call_id: str, fields: dict[str, Any]) -> None:
    store.update_call_sync(call_id, fields)


def _apply_add_event(store: Store, call_id: str, kind: str, data: dict[str, Any], at: datetime) -> None:
    store.add_event_sync(call_id, kind, data, at)


def _apply_dnc_add(store: Store, phones: list[str], reason: str, actor: str, call_id: str | None) -> None:
    store.campaigns.dnc_add(phones, reason=reason, actor=actor, call_id=call_id)


def _apply_finish_attempt(store: Store, call_id: str, nxt: dict[str, Any], **kw: Any) -> None:
    store.campaigns.finish(call_id, Next(LeadStatus(nxt["status"]), nxt["at"], nxt["reason"]), **kw)


def _apply_cancel_claim(
    store: Store, call_id: str, lead_id: int, reason: str, status: str, **kw: Any
) -> None:
    store.campaigns.cancel(call_id, lead_id, reason, LeadStatus(status), **kw)


def _apply_called_back(
    store: Store, lead_id: int, call_id: str, nxt: dict[str, Any] | None, **kw: Any
) -> None:
    step = Next(LeadStatus(nxt["status"]), nxt["at"], nxt["reason"]) if nxt is not None else None
    store.campaigns.called_back(lead_id, call_id, nxt=step, **kw)


def _apply_qa_result(store: Store, call_id: str, **kw: Any) -> None:
    store.quality.add_result(call_id, **kw)


#: Every kind of write the outbox carries, by name (the name is what the file keeps).
WRITES: dict[str, Callable[..., None]] = {
    "create_call": _apply_create_call,
    "update_call": _apply_update_call,
    "add_event": _apply_add_event,
    "dnc_add": _apply_dnc_add,
    "finish_attempt": _apply_finish_attempt,
    "cancel_claim": _apply_cancel_claim,
    "called_back": _apply_called_back,
    "qa_result": _apply_qa_result,
}


async def apply_now(store: Store, name: str, **args: Any) -> None:
    """One of the outbox's writes, applied at once and in the same form (no outbox in use)."""
    await _apply(store, _encode(name, args))


async def _apply(store: Store, line: str) -> None:
    """Apply one write as the file keeps it: the everyday path and the replay are one path."""
    name, args = _decode(line)
    await store.run(WRITES[name], store, **args)


class Outbox:
    """The ordered, durable way in for writes that must not be lost (see the module doc).

    One writer task owns the order: ``submit`` queues a write and returns at once (a call's
    behaviour never waits on the database); ``write`` also waits until the write is applied
    or safely in the file.
    """

    def __init__(self, store: Store, directory: Path | None, *, retry_every: float = 2.0) -> None:
        self._store = store
        self._dir = directory
        self._retry_every = retry_every
        self._queue: asyncio.Queue[tuple[str, asyncio.Future[None]] | None] = asyncio.Queue()
        self._pending: list[str] = []  # encoded writes waiting for the database, oldest first
        self._done = 0  # of the file's lines, how many are applied
        self._writer: asyncio.Task[None] | None = None
        self._back = asyncio.Event()
        self._back.set()
        #: Writes that went to the file during outages, and that were replayed (for figures, logs).
        self.deferred = 0
        self.replayed = 0
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    @property
    def available(self) -> bool:
        """Whether writes go straight to the database (nothing waits in the outbox)."""
        return self._back.is_set()

    async def wait_available(self) -> None:
        await self._back.wait()

    async def start(self) -> None:
        """Pick up writes a previous run left (it stopped during an outage); they go first."""
        if self._dir is not None and self._file.exists():
            lines = self._file.read_text(encoding="utf-8").splitlines()
            self._done = int(self._done_file.read_text() or 0) if self._done_file.exists() else 0
            self._pending = [line for line in lines[self._done :] if line.strip()]
            if self._pending:
                log.warning("outbox: %d writes left by the last run, replayed first", len(self._pending))
                self._back.clear()
        self._writer = asyncio.create_task(self._run(), name="outbox")

    async def close(self) -> None:
        """Apply (or keep in the file) every write submitted so far, then stop; writes still
        waiting for the database stay in the file for the next start."""
        if self._writer is None:
            return
        self._queue.put_nowait(None)
        await self._writer
        self._writer = None

    def submit(self, name: str, **args: Any) -> asyncio.Future[None]:
        """Queue one write (in order with every other); a write the database refuses for
        itself is logged. The future says when it is applied or in the file."""
        if name not in WRITES:
            raise ValueError(f"unknown outbox write {name!r}")
        if self._writer is None:
            raise RuntimeError("Outbox.start() first")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_log_refusal)
        self._queue.put_nowait((_encode(name, args), future))
        return future

    async def write(self, name: str, **args: Any) -> None:
        """``submit`` and wait: applied, or safely in the file. Never raises for an outage; raises
        the store's error when the database refuses the write itself."""
        await self.submit(name, **args)

    # -- the writer ----------------------------------------------------------------------
    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        probe = loop.time() + self._retry_every
        while True:
            if self._pending:  # the database is away: queue to the file, probe now and then
                try:
                    item = await asyncio.wait_for(self._queue.get(), max(0.0, probe - loop.time()))
                except TimeoutError:
                    await self._drain()
                    probe = loop.time() + self._retry_every
                    continue
                if item is None:
                    return
                line, future = item
                self._append(line)
                _resolve(future)
                continue
            item = await self._queue.get()
            if item is None:
                return
            line, future = item
            try:
                await _apply(self._store, line)
            except StoreUnavailable as e:
                log.error("database away (%s): calls go on, their writes wait in the outbox", e.message)
                self._back.clear()
                self._append(line)
                probe = loop.time() + self._retry_every
                _resolve(future)
            except VoicebotError as e:
                if not future.done():
                    future.set_exception(e)
            else:
                _resolve(future)

    async def _drain(self) -> None:
        """Replay the waiting writes in order; an outage stops it until the next probe."""
        while self._pending:
            line = self._pending[0]
            try:
                await _apply(self._store, line)
            except StoreUnavailable:
                return
            except VoicebotError as e:  # refused for itself: kept aside, never silently dropped
                log.error("outbox: the database refused a %s write: %s", _decode(line)[0], e.message)
                self._reject(line, e.message)
            self._pending.pop(0)
            self.replayed += 1
            self._mark_done()
        self._reset()
        log.warning("database back: %d writes replayed from the outbox", self.replayed)
        self._back.set()

    def _append(self, line: str) -> None:
        self._pending.append(line)
        self.deferred += 1
        if self._dir is None:
            return
        fd = os.open(self._file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    @property
    def _file(self) -> Path:
        assert self._dir is not None
        return self._dir / "outbox.jsonl"

    @property
    def _done_file(self) -> Path:
        assert self._dir is not None
        return self._dir / "outbox.done"

    def _mark_done(self) -> None:
        self._done += 1
        if self._dir is not None:
            _write_synced(self._done_file, str(self._done))

    def _reset(self) -> None:
        """Everything is applied: start the file afresh."""
        self._done = 0
        if self._dir is not None:
            self._file.unlink(missing_ok=True)
            self._done_file.unlink(missing_ok=True)

    def _reject(self, line: str, error: str) -> None:
        if self._dir is None:
            return
        with (self._dir / "outbox.rejected.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps({"write": json.loads(line), "error": error}, ensure_ascii=False) + "\n")


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _log_refusal(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("a write was refused: %s", future.exception())


def _write_synced(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _encode(name: str, args: dict[str, Any]) -> str:
    return json.dumps({"write": name, "args": _plain(args)}, ensure_ascii=False, separators=(",", ":"))


def _plain(value: Any) -> Any:
    """JSON with datetimes kept as datetimes ({"$dt": iso})."""
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _revive(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$dt"}:
            return datetime.fromisoformat(value["$dt"])
        return {k: _revive(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_revive(v) for v in value]
    return value


def _decode(line: str) -> tuple[str, dict[str, Any]]:
    item = json.loads(line)
    return item["write"], _revive(item["args"])

"""Applying the retention policy (``[retention]``): the edge that deletes recording files and
runs the store's purge, once (``voicebot retention``) or every hour in ``voicebot serve``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from voicebot.config import Settings
from voicebot.errors import MediaError, StoreError
from voicebot.media import archive
from voicebot.store import Store
from voicebot.store.retention import Cutoffs, Purged

log = logging.getLogger(__name__)


def cutoffs(settings: Settings, now: datetime) -> Cutoffs:
    r = settings.retention
    return Cutoffs.of(
        now,
        recordings=r.recordings_days,
        transcripts=r.transcripts_days,
        calls=r.calls_days,
        leads=r.leads_days,
        audit=r.audit_days,
    )


def recording_deleter(settings: Settings) -> Callable[[str], bool]:
    """Deletes a call's recording file under the PBX's monitor directory; whether it was there.
    A path that leads outside that directory is never touched."""
    monitor = settings.recording_path("").resolve()

    def delete(relative: str) -> bool:
        path = settings.recording_path(relative).resolve()
        if not path.is_relative_to(monitor) or path == monitor:
            log.warning("retention: recording %r is outside %s: not deleted", relative, monitor)
            return False
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    return delete


@dataclass(frozen=True, slots=True)
class Compressed:
    recordings: int = 0
    wav_bytes: int = 0
    opus_bytes: int = 0
    failed: int = 0


def compress_recordings(store: Store, settings: Settings, *, limit: int = 200) -> Compressed:
    """Recordings of calls that ended ``compress_after_minutes`` ago and more, still WAV, become
    Ogg Opus; their calls point at the new file. Sync (the store's thread, or the command line).
    A file that is gone or unreadable is left, logged."""
    r = settings.retention
    if not r.compress_recordings:
        return Compressed()
    monitor = settings.recording_path("").resolve()
    before = store.now() - timedelta(minutes=r.compress_after_minutes)
    done, wav_bytes, opus_bytes, failed = 0, 0, 0, 0
    for call_id, relative in store.wav_recordings_sync(before, limit):
        path = settings.recording_path(relative).resolve()
        if not path.is_relative_to(monitor) or not path.is_file():
            continue  # outside the monitor directory, or gone (retention, or never written)
        size = path.stat().st_size
        try:
            out = archive.compress(path)
        except MediaError as e:
            log.warning("recording of call %s not compressed: %s", call_id, e.message)
            failed += 1
            continue
        store.update_call_sync(call_id, {"recording": relative[: -len(".wav")] + archive.SUFFIX})
        done, wav_bytes, opus_bytes = done + 1, wav_bytes + size, opus_bytes + out.stat().st_size
    return Compressed(done, wav_bytes, opus_bytes, failed)


def apply(store: Store, settings: Settings, *, actor: str, dry_run: bool = False) -> Purged:
    """Remove (or with ``dry_run`` count) the personal data past its age. Sync: run it on the
    store's thread (``await store.run(apply, ...)``) or from the command line."""
    cut = cutoffs(settings, store.now())
    if dry_run:
        return store.retention.due(cut)
    return store.retention.purge(cut, delete_recording=recording_deleter(settings), actor=actor)


async def run_every(store: Store, settings: Settings, stop: asyncio.Event) -> None:
    """``voicebot serve``: apply the policy now and every ``retention.every_minutes`` until
    ``stop``. A database outage skips a round; it never stops the worker."""
    while not stop.is_set():
        try:
            done = await store.run(apply, store, settings, actor="retention")
            packed = await store.run(compress_recordings, store, settings)
        except StoreError as e:
            log.warning("retention: skipped this round: %s", e.message)
        else:
            if done.total:
                log.info("retention: %s", describe(done))
            if packed.recordings:
                log.info("recordings: %s", describe_compressed(packed))
        try:
            await asyncio.wait_for(stop.wait(), settings.retention.every_minutes * 60)
        except TimeoutError:
            pass


def describe_compressed(c: Compressed) -> str:
    kb = f"{c.wav_bytes / 1024:.0f} KB as WAV, {c.opus_bytes / 1024:.0f} KB as Opus" if c.recordings else ""
    failed = f"; {c.failed} could not be read" if c.failed else ""
    return f"{c.recordings} compressed ({kb}){failed}" if kb else f"none compressed{failed}"


def describe(done: Purged) -> str:
    missing = f" ({done.recordings_missing} already gone)" if done.recordings_missing else ""
    return (
        f"{done.recordings} recording(s){missing}, {done.transcripts} transcript(s), "
        f"{done.calls} call record(s) anonymized, {done.leads} lead(s) deleted, "
        f"{done.audit} audit entr(ies) masked"
    )

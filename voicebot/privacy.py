"""Applying the retention policy (``[retention]``): the edge that deletes recording files and
runs the store's purge, once (``voicebot retention``) or every hour in ``voicebot serve``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from voicebot.config import Settings
from voicebot.errors import StoreError
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
        except StoreError as e:
            log.warning("retention: skipped this round: %s", e.message)
        else:
            if done.total:
                log.info("retention: %s", describe(done))
        try:
            await asyncio.wait_for(stop.wait(), settings.retention.every_minutes * 60)
        except TimeoutError:
            pass


def describe(done: Purged) -> str:
    missing = f" ({done.recordings_missing} already gone)" if done.recordings_missing else ""
    return (
        f"{done.recordings} recording(s){missing}, {done.transcripts} transcript(s), "
        f"{done.calls} call record(s) anonymized, {done.leads} lead(s) deleted, "
        f"{done.audit} audit entr(ies) masked"
    )

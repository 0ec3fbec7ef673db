"""What every ``voicebot`` command shares: who the operator is, and the store opened for one."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from voicebot.config import Settings
from voicebot.errors import VoicebotError

if TYPE_CHECKING:
    from voicebot.store import Store


def operator() -> str:
    """The login of whoever runs the command, for the audit."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


@contextmanager
def open_store(settings: Settings, *, upgrade: bool = True) -> Iterator[Store]:
    """The store for one command (its schema brought up to date, or only checked); a database
    error exits 1 with the fix."""
    from voicebot.store import Store

    store = Store(settings.db_url)
    try:
        if upgrade:
            store.migrate()
        else:
            store.check_schema()
        yield store
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    finally:
        store.close()

"""What every ``voicebot`` command shares: who the operator is, and the store opened for one."""

from __future__ import annotations

import getpass
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from voicebot.config import Settings
from voicebot.errors import ConfigError, VoicebotError

if TYPE_CHECKING:
    from voicebot.store import Store


def keep_private(data_dir: Path) -> None:
    """Everything voicebot writes is readable by its own user only: customers' numbers, names
    and what they said. From now on the process creates files and directories owner-only, and
    the data directory (and what is already in it, one level down) loses any group or other bit."""
    os.umask(0o077)
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for path in (data_dir, *data_dir.iterdir()):
            mode = stat.S_IMODE(path.lstat().st_mode)
            if mode & 0o077 and not path.is_symlink():
                path.chmod(mode & 0o700)
    except OSError as e:
        raise ConfigError(
            f"cannot make the data directory {data_dir} private: {e.strerror}",
            hint="run voicebot as the user who owns it, or set data_dir",
        ) from e


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

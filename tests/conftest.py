"""Shared fixtures: real components, started by the tests themselves.

Tests that need Asterisk or PostgreSQL start them through the project's own
scripts (idempotent). When a component cannot be had, those tests fail with
what to do; they never skip.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script(*args: str, timeout: float = 600) -> str:
    try:
        out = subprocess.run(
            [str(ROOT / "scripts" / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.CalledProcessError as e:
        pytest.fail(f"scripts/{' '.join(args)} failed ({e.returncode}):\n{e.stderr[-2000:]}", pytrace=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"scripts/{' '.join(args)} timed out", pytrace=False)
    return out.stdout


@dataclass(frozen=True)
class Lab:
    """The lab Asterisk: how to reach it and where its files are."""

    env: dict[str, str]

    @property
    def secret(self) -> str:
        return self.env["VOICEBOT_AMI__SECRET"]

    @property
    def root(self) -> Path:
        return Path(self.env["VOICEBOT_PBX_ROOT"])

    @property
    def sounds(self) -> Path:
        return self.root / "usr/share/asterisk/sounds/voicebot-lab"

    @property
    def monitor(self) -> Path:
        return self.root / "var/spool/asterisk/monitor"

    def cli(self, command: str) -> str:
        return _script("pbx.sh", "cli", command, timeout=30)


@pytest.fixture(scope="session")
def lab() -> Lab:
    """A running lab Asterisk with the project's dialplan loaded (installed on first use, ~80 s)."""
    _script("pbx.sh", "start")
    env = dict(line.split("=", 1) for line in _script("pbx.sh", "env").splitlines() if "=" in line)
    return Lab(env)


@dataclass(frozen=True)
class FreeSwitchLab:
    """The lab FreeSWITCH: how to reach its event socket and where its files are."""

    env: dict[str, str]

    @property
    def password(self) -> str:
        return self.env["VOICEBOT_ESL__PASSWORD"]

    @property
    def port(self) -> int:
        return int(self.env["VOICEBOT_ESL__PORT"])

    @property
    def user(self) -> str:
        return self.env["VOICEBOT_ESL__USER"]

    @property
    def recordings(self) -> Path:
        return Path(self.env["VOICEBOT_PBX__RECORDINGS"])

    @property
    def sounds(self) -> Path:
        return Path(self.env["FREESWITCH_LAB_SOUNDS"])

    def cli(self, command: str) -> str:
        return _script("freeswitch.sh", "cli", command, timeout=30)


@pytest.fixture(scope="session")
def freeswitch() -> FreeSwitchLab:
    """A running lab FreeSWITCH with the project's configuration (built on first use, ~4 min)."""
    _script("freeswitch.sh", "start")
    env = dict(line.split("=", 1) for line in _script("freeswitch.sh", "env").splitlines() if "=" in line)
    return FreeSwitchLab(env)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The URL of a real PostgreSQL test database (Debian's server, started on first use)."""
    url = os.environ.get("VOICEBOT_TEST_POSTGRES_URL")
    if not url:
        _script("postgres.sh", "start", timeout=300)
        url = _script("postgres.sh", "url").strip()
    return url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"voicebot_t_{uuid.uuid4().hex[:12]}"
    # pre-ping: a fault drill may have restarted the server since the database was created
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    base, _, _ = postgres_server_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on the embedded SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'voicebot.db'}"
    return str(request.getfixturevalue("postgres_url"))

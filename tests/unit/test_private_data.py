"""Personal data at rest (issue 10, section 5, first part): owner-only files, secrets never printed."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from voicebot.config import load_settings
from voicebot.errors import ConfigError


def voicebot(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEBOT_")}
    env["VOICEBOT_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "voicebot", *args], env=env, capture_output=True, text=True, timeout=60
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_and_the_database_are_owner_only(tmp_path):
    fresh = tmp_path / "fresh"
    done = voicebot(fresh, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert mode(fresh) == 0o700 and mode(fresh / "voicebot.db") == 0o600
    # an existing install, made world-readable before this version, is tightened
    old = tmp_path / "old"
    old.mkdir(mode=0o755)
    (old / "voicebot.db").write_bytes(b"")
    os.chmod(old, 0o755)
    os.chmod(old / "voicebot.db", 0o644)
    (old / "prompts").mkdir()
    os.chmod(old / "prompts", 0o755)
    voicebot(old, "db", "upgrade")
    assert mode(old) == 0o700 and mode(old / "voicebot.db") == 0o600 and mode(old / "prompts") == 0o700


@pytest.mark.parametrize(
    ("overrides", "secret"),
    [
        ({"ami": {"secret": 982451653}}, "982451653"),  # a number where text belongs
        ({"ami": "host=pbx secret=hunter2"}, "hunter2"),  # a section given as a string
        ({"database_url": 42}, "42"),
        ({"cdr": {"url": ["postgresql://u:pw4242@db/x"]}}, "pw4242"),
    ],
)
def test_a_settings_error_never_prints_a_secret(overrides, secret):
    with pytest.raises(ConfigError) as err:
        load_settings(None, **overrides)
    assert secret not in str(err.value)
    assert "value not shown" in str(err.value)

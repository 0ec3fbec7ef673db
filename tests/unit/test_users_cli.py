"""`voicebot users`: console users from the command line, on a real SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys

from voicebot.console.auth import verify_password
from voicebot.store import Store


def voicebot(tmp_path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEBOT_")}
    env["VOICEBOT_DATA_DIR"] = str(tmp_path / "data")
    if password is not None:
        env["NEW_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "voicebot", "users", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_users_are_added_listed_and_their_passwords_changed(tmp_path):
    added = voicebot(
        tmp_path,
        "add", "alice", "--role", "agent", "--name", "Alice Wang", "--interface", "PJSIP/agent101",
        "--queue", "sales", "--password-env", "NEW_PASSWORD",
        password="correct horse battery",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = voicebot(tmp_path, "list")
    assert "alice" in listed.stdout and "PJSIP/agent101 sales" in listed.stdout
    again = voicebot(
        tmp_path, "password", "alice", "--password-env", "NEW_PASSWORD", password="another good one"
    )
    assert again.returncode == 0, again.stderr
    store = Store(f"sqlite:///{tmp_path / 'data' / 'voicebot.db'}")
    info = store.console.user("alice")
    assert info is not None and info.password_hash.startswith("$argon2id$")
    assert verify_password(info.password_hash, "another good one")
    assert not verify_password(info.password_hash, "correct horse battery")
    actions = [e.action for e in store.campaigns.audit()]
    assert actions == ["user_add", "user_password"]
    store.close()


def test_bad_users_are_refused_with_the_fix(tmp_path):
    no_phone = voicebot(
        tmp_path, "add", "bob", "--role", "agent", "--password-env", "NEW_PASSWORD", password="x" * 12
    )
    assert no_phone.returncode == 2 and "needs --interface" in no_phone.stderr
    bad_name = voicebot(
        tmp_path,
        "add",
        "Bob Smith",
        "--role",
        "supervisor",
        "--password-env",
        "NEW_PASSWORD",
        password="x" * 12,
    )
    assert bad_name.returncode == 2 and "bad user name" in bad_name.stderr
    short = voicebot(
        tmp_path, "add", "sue", "--role", "supervisor", "--password-env", "NEW_PASSWORD", password="short"
    )
    assert short.returncode == 2 and "10 to 256" in short.stderr
    hostile = voicebot(
        tmp_path, "add", "eve", "--role", "agent", "--interface", "PJSIP/x\r\nAction: Originate",
        "--password-env", "NEW_PASSWORD", password="x" * 12,
    )  # fmt: skip
    assert hostile.returncode == 2 and "bad agent interface" in hostile.stderr
    twice = [
        voicebot(
            tmp_path,
            "add",
            "sue",
            "--role",
            "supervisor",
            "--password-env",
            "NEW_PASSWORD",
            password="x" * 12,
        )
        for _ in range(2)
    ]
    assert twice[0].returncode == 0 and twice[1].returncode == 1 and "exists already" in twice[1].stderr

"""The operator's commands: campaign, leads, dnc, audit (real SQLite, real processes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "voicebot", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_campaign_commands(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "VOICEBOT_DATA_DIR": str(tmp_path / "data")}
    bad = tmp_path / "bad.yml"
    bad.write_text("id: c\nretry:\n  busy: soon\n", encoding="utf-8")
    done = run(env, "campaign", "create", str(bad))
    assert done.returncode == 2 and f"{bad}:3: retry.busy" in done.stderr and "not a duration" in done.stderr

    done = run(env, "campaign", "create", str(ROOT / "docs/examples/demo-campaign.yml"))
    assert done.returncode == 0 and "campaign demo (created)" in done.stdout, done.stderr

    leads = tmp_path / "leads.csv"
    leads.write_bytes(
        "姓名,电话,授权来源\n甲,13800001001,官网\n乙,12345,官网\n丙,13800002001,\n".encode("gbk")
    )
    done = run(env, "campaign", "import", "demo", str(leads))
    assert done.returncode == 1
    assert f"{leads}:3: '12345' is not a valid CN number" in done.stdout
    assert "nothing imported" in done.stderr
    assert "+86" not in run(env, "leads", "demo").stdout  # all or nothing

    done = run(env, "campaign", "import", "demo", str(leads), "--skip-bad")
    assert done.returncode == 0 and "imported 2 new lead(s)" in done.stdout
    assert "1 lead(s) have no consent record" in done.stdout
    listed = run(env, "leads", "demo").stdout
    assert "+8613800001001" in listed and "+8613800002001" in listed and "12345" not in listed

    assert run(env, "campaign", "pause", "demo").returncode == 1  # created: it cannot pause yet
    assert "campaign demo is running" in run(env, "campaign", "start", "demo").stdout
    assert "campaign demo is paused" in run(env, "campaign", "pause", "demo", "--reason", "lunch").stdout
    status = run(env, "campaign", "status", "demo").stdout
    assert "campaign demo (paused)" in status and "leads     2: pending 2" in status

    assert "1 number(s) added" in run(env, "dnc", "add", "138-0000-1001", "--reason", "asked by email").stdout
    done = run(env, "dnc", "check", "+86 138 0000 1001")
    assert done.returncode == 1 and "on the global list" in done.stdout and "asked by email" in done.stdout
    assert run(env, "dnc", "check", "13800002001").returncode == 0
    assert "dnc" in run(env, "leads", "demo", "--status", "dnc").stdout  # its pending lead stopped at once
    assert run(env, "dnc", "remove", "13800001001").returncode == 2  # a removal needs a reason
    done = run(env, "dnc", "remove", "13800001001", "--reason", "consent renewed in writing")
    assert done.returncode == 0
    numbers = tmp_path / "dnc.txt"
    numbers.write_text("13800003001\n13800003002\nnot a number\n", encoding="utf-8")
    done = run(env, "dnc", "import", str(numbers), "--campaign", "demo")
    assert "2 number(s) added" in done.stdout and ":3: 'not a number'" in done.stdout

    audit = run(env, "audit", "--number", "13800001001").stdout.splitlines()
    assert [line.split()[2] for line in audit] == ["dnc_add", "dnc_remove"]
    assert "consent renewed in writing" in audit[1] and "added_reason=asked by email" in audit[1]
    actions = [line.split()[2] for line in run(env, "audit", "--campaign", "demo").stdout.splitlines()]
    assert actions[:4] == ["campaign_created", "import", "campaign_running", "campaign_paused"]

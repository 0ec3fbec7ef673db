"""Calls through the real Asterisk: originate, FastAGI, AudioSocket both ways, records.

The lab callees live in dialplans/asterisk/lab/extensions_lab.conf.
"""

from __future__ import annotations

import asyncio
import wave

import numpy as np
import pytest

from voicebot.app import App
from voicebot.media import audio
from voicebot.media.wavfile import read_call_audio

pytestmark = pytest.mark.asterisk


def wav_rms(path, start: float = 0.0, end: float | None = None) -> float:
    pcm = read_call_audio(path)
    a = int(start * audio.SAMPLE_RATE) * 2
    b = int(end * audio.SAMPLE_RATE) * 2 if end else len(pcm)
    return audio.rms(pcm[a:b])


def dominant_hz(path, start: float, end: float) -> float:
    pcm = read_call_audio(path)[int(start * 8000) * 2 : int(end * 8000) * 2]
    s = np.frombuffer(pcm, dtype="<i2").astype(float)
    spectrum = np.abs(np.fft.rfft(s))
    return float(np.argmax(spectrum) * 8000 / s.size)


async def test_answered_call_streams_audio_both_ways_and_is_recorded(lab, settings_for):
    settings = settings_for(call={"listen_seconds": 1.0})  # the packaged spoken greeting
    async with App(settings) as app:
        outcome = await asyncio.wait_for(app.call("Local/play-interested@voicebot-lab/n", lead_id="L1"), 60)
    r = outcome.record
    assert r.disposition == "answered"
    assert r.completed and r.state == "hungup"
    assert r.hangup_cause == 16
    assert r.end_reason == "bot-hangup"
    assert r.lead_id == "L1"
    greeting_seconds = audio.duration(app.greeting)
    assert r.talk_seconds is not None and greeting_seconds < r.talk_seconds < greeting_seconds + 5
    # the bot heard the callee: 5.5 s of speech, not silence
    assert r.callee_audio_seconds > 4.0
    assert r.callee_audio_rms > 0.02
    # the callee heard the bot: its receive-side recording carries the greeting's energy...
    heard = lab.monitor / "voicebot-lab" / f"callee-{r.id}-heard.wav"
    assert heard.exists()
    assert wav_rms(heard, 0.5, greeting_seconds - 0.5) > 0.03
    # ...and the silence after it is quiet
    assert wav_rms(heard, greeting_seconds + 0.4, greeting_seconds + 0.9) < 0.005
    # every call is recorded by the production dialplan too
    assert r.recording == f"voicebot/{r.id}.wav"
    assert settings.recording_path(r.recording).stat().st_size > 8000 * 2 * greeting_seconds
    # customers' voices: readable by the PBX's user and group only (Asterisk runs with umask 027)
    assert settings.recording_path(r.recording).stat().st_mode & 0o007 == 0
    kinds = [e.kind for e in await app_store_events(settings, r.id)]
    for expected in (
        "originate",
        "originated",
        "answered",
        "agi",
        "media_started",
        "prompt",
        "heard",
        "media_ended",
        "completed",
    ):
        assert expected in kinds


async def app_store_events(settings, call_id):
    from voicebot.store import Store

    store = Store(settings.db_url)
    try:
        return await store.events(call_id)
    finally:
        store.close()


async def test_bot_greeting_arrives_intact(lab, app):
    """A pure tone through AudioSocket and a Local channel keeps its pitch and timing (pacing works)."""
    outcome = await asyncio.wait_for(app.call("Local/silent@voicebot-lab/n"), 30)
    heard = lab.monitor / "voicebot-lab" / f"callee-{outcome.call_id}-heard.wav"
    assert outcome.disposition == "answered"
    assert abs(dominant_hz(heard, 0.3, 1.8) - 440) < 3
    with wave.open(str(heard)) as w:
        assert w.getnframes() / w.getframerate() > 2.5  # greeting + listen window
    assert outcome.record.callee_audio_rms < 0.001  # the silent callee sent silence, or nothing


@pytest.mark.parametrize(
    ("callee", "disposition", "cause"),
    [
        ("busy", "busy", 17),
        ("congestion", "congestion", 34),
        ("noanswer", "no_answer", 19),
        ("invalid", "invalid", 1),  # no such number (cause 1): not retried
    ],
)
async def test_unanswered_callees_get_their_dispositions(app, callee, disposition, cause):
    outcome = await asyncio.wait_for(app.call(f"Local/{callee}@voicebot-lab/n"), 30)
    r = outcome.record
    assert (r.disposition, r.hangup_cause) == (disposition, cause)
    assert r.completed and r.answered_at is None and r.talk_seconds is None
    assert r.end_reason is None  # no media session ever started


async def test_callee_hanging_up_mid_prompt_ends_cleanly(lab, settings_for, tone_greeting):
    long_greeting = tone_greeting.parent / "long.wav"
    from voicebot.media.wavfile import write_call_audio

    write_call_audio(long_greeting, audio.tone(440, 10.0))
    async with App(settings_for(call={"greeting": long_greeting})) as app:
        baseline = {t.get_name() for t in asyncio.all_tasks()}
        outcome = await asyncio.wait_for(app.call("Local/drop-2@voicebot-lab/n"), 30)
        await asyncio.sleep(0.1)
        leftover = {t.get_name() for t in asyncio.all_tasks()} - baseline
        assert not app.audiosocket.streams
        assert app.calls.live_calls == 0
    r = outcome.record
    assert r.disposition == "answered" and r.completed
    assert r.end_reason == "callee-hangup"
    assert 1.0 < r.bot_audio_seconds < 3.5  # the prompt stopped when the callee left
    assert 1.5 < r.talk_seconds < 3.5
    assert not leftover, f"orphan tasks: {leftover}"


async def test_ami_drop_mid_call_reconnects_and_record_completes(lab, settings_for, tone_greeting):
    from .conftest import TcpProxy

    proxy = TcpProxy(5038)
    await proxy.start()
    settings = settings_for(ami={"port": proxy.port}, call={"greeting": tone_greeting, "listen_seconds": 2.0})
    try:
        async with App(settings) as app:
            call = asyncio.create_task(app.call("Local/silent@voicebot-lab/n"))
            for _ in range(100):
                await asyncio.sleep(0.05)
                if any(h.progress.answered_at for h in app.pbx.active_calls):
                    break
            # cut AMI, and keep it down until the call has ended unseen
            proxy.refusing = True
            proxy.cut()
            await asyncio.sleep(5.0)
            assert not app.ami.connected
            proxy.refusing = False
            outcome = await asyncio.wait_for(call, 30)
            assert app.ami.reconnects >= 1 and app.ami.connected
    finally:
        await proxy.close()
    r = outcome.record
    assert r.completed
    assert r.disposition == "answered"
    assert r.end_reason == "bot-hangup"
    # from the media session's end (greeting, listening, the hangup grace), not the reconnect time
    grace = settings.call.hangup_grace
    assert 3.5 + grace < r.talk_seconds < 5.5 + grace
    assert r.hangup_cause_text == "ended while AMI was disconnected"


async def test_unreachable_ami_fails_fast_with_a_fix(settings_for, tone_greeting):
    from voicebot.errors import AmiConnectError

    settings = settings_for(ami={"port": 1, "connect_timeout": 1}, call={"greeting": tone_greeting})
    with pytest.raises(AmiConnectError) as err:
        async with App(settings):
            pass
    assert "cannot reach AMI at 127.0.0.1:1" in str(err.value)
    assert "scripts/pbx.sh start" in str(err.value)


async def test_wrong_secret_is_not_retried(settings_for, tone_greeting):
    from voicebot.errors import AmiAuthError

    settings = settings_for(ami={"secret": "wrong"}, call={"greeting": tone_greeting})
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(AmiAuthError, match="refused login as 'voicebot'"):
        async with App(settings):
            pass
    assert loop.time() - start < 2.0


@pytest.mark.parametrize(
    ("destination", "context", "text"),
    [
        ("Foo/bar", "voicebot-outbound", "channel could not be created"),
        ("Local/silent@voicebot-lab/n", "no-such-context", "originate refused: Extension does not exist."),
    ],
)
async def test_impossible_calls_fail_fast_with_a_reason(
    settings_for, tone_greeting, destination, context, text
):
    async with App(settings_for(dial={"context": context}, call={"greeting": tone_greeting})) as app:
        outcome = await asyncio.wait_for(app.call(destination), 10)
    assert outcome.disposition == "failed"
    assert outcome.record.hangup_cause_text == text
    assert outcome.record.completed

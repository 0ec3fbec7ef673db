"""The retention policy (issue 10, section 5) on real SQLite and real PostgreSQL: personal data
past its age is removed (recording files too), the do-not-call lists stay, the removal is
audited, and a second run finds nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support import Clock
from voicebot import privacy
from voicebot.campaign.definition import Campaign
from voicebot.campaign.leads import ImportedLead
from voicebot.campaign.retry import LeadStatus, Next
from voicebot.config import Settings
from voicebot.store import CallRecord, Store
from voicebot.store.retention import mask

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
#: Calls at any hour of any day, with or without consent: the test moves the clock freely.
ANYTIME = Campaign(
    id="c1", require_consent=False, calling_hours={"days": list(range(7)), "start": "00:00", "end": "24:00"}
)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock():
    return Clock(NOW)


def settings(tmp_path: Path, **retention) -> Settings:
    return Settings(data_dir=tmp_path / "data", pbx_root=tmp_path / "pbx", retention=retention)


def lead(n: int) -> ImportedLead:
    return ImportedLead(line=n + 1, phone=f"+86138000010{n:02d}", name=f"Lead {n}", fields={"city": "北京"})


def call_at(store: Store, config: Settings, clock: Clock, days_ago: int, phone: str) -> str:
    """A finished call made ``days_ago`` with a transcript, a timeline, a recording file and an
    attempt, as a campaign call leaves them."""
    clock.now = NOW - timedelta(days=days_ago)
    repo = store.campaigns
    (claim,), _ = repo.claim("c1", ANYTIME.policy(), "Asia/Shanghai", "w1", 1)
    assert claim.lead.phone == phone
    recording = f"voicebot/{claim.call_id}.wav"
    path = config.recording_path(recording)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF....WAVE")
    store.create_call_sync(
        CallRecord(
            id=claim.call_id,
            destination=phone,
            channel=f"PJSIP/{phone[3:]}@trunk",
            lead_id=str(claim.lead.id),
            campaign_id="c1",
            recording=recording,
            transcript=[{"speaker": "callee", "text": "我叫张三, 住在北京", "start": 1.0, "end": 2.0}],
            disposition="answered",
            outcome="completed",
        )
    )
    store.add_event_sync(claim.call_id, "heard", {"text": "我叫张三"}, clock.now)
    repo.finish(
        claim.call_id,
        Next(LeadStatus.DONE),
        disposition="answered",
        outcome="completed",
        grade="C",
        actor="t",
    )
    clock.now = NOW
    return claim.call_id


def test_personal_data_past_its_age_is_removed_and_the_lists_stay(store, clock, tmp_path):
    config = settings(tmp_path)  # defaults: recordings and transcripts 180 d, calls and leads 365 d
    repo = store.campaigns
    clock.now = NOW - timedelta(days=500)
    repo.save_campaign("c1", "test", ANYTIME.to_json(), "t")
    repo.import_leads("c1", [lead(n) for n in range(3)], "leads.csv", "t")
    repo.set_state("c1", "running", "t")
    repo.dnc_add(["+8613800001009"], reason="asked on the phone", actor="t")  # 500 days ago
    old = call_at(store, config, clock, 400, "+8613800001000")
    middle = call_at(store, config, clock, 200, "+8613800001001")
    clock.now = NOW

    due = privacy.apply(store, config, actor="t", dry_run=True)
    assert (due.recordings, due.transcripts, due.calls, due.leads) == (2, 2, 1, 2)
    assert config.recording_path(f"voicebot/{old}.wav").exists()  # a dry run removes nothing

    done = privacy.apply(store, config, actor="compliance")
    assert (done.recordings, done.recordings_missing, done.transcripts, done.calls, done.leads) == (
        2,
        0,
        2,
        1,
        2,
    )
    assert not config.recording_path(f"voicebot/{old}.wav").exists()
    assert not config.recording_path(f"voicebot/{middle}.wav").exists()

    anonymized = store.get_call_sync(old)
    assert anonymized.destination == "+86 (redacted)" and "13800001000" not in anonymized.channel
    assert anonymized.transcript is None and anonymized.recording is None
    assert anonymized.redacted_at is not None
    assert (anonymized.disposition, anonymized.outcome) == ("answered", "completed")  # reports still count it
    assert store.events_sync(old) == []
    kept = store.get_call_sync(middle)  # 200 days: no recording, no transcript, but its number until 365
    assert kept.destination == "+8613800001001" and kept.transcript is None and kept.recording is None
    assert store.events_sync(middle) == []

    # leads untouched for 365 days go (the one called 400 days ago, the one imported 500 days ago
    # and never called); the one called 200 days ago stays
    assert [lead.phone for lead in repo.leads("c1")] == ["+8613800001001"]
    assert [e.phone for e in repo.dnc_check("+8613800001009")] == ["+8613800001009"]  # kept forever
    entries = repo.audit(action="retention")
    assert len(entries) == 1 and entries[0].actor == "compliance"
    assert entries[0].detail["calls"] == 1 and "recordings" in entries[0].detail["cutoffs"]

    again = privacy.apply(store, config, actor="compliance")
    assert again.total == 0 and len(repo.audit(action="retention")) == 1


def test_old_audit_entries_keep_their_facts_and_lose_the_number(store, clock, tmp_path):
    repo = store.campaigns
    clock.now = NOW - timedelta(days=1200)
    repo.dnc_add(["+8613800002000"], reason="complaint", actor="t")
    clock.now = NOW - timedelta(days=10)
    repo.dnc_add(["+8613800002001"], reason="complaint", actor="t")
    clock.now = NOW
    done = privacy.apply(store, settings(tmp_path), actor="t")
    assert done.audit == 1
    phones = [e.phone for e in repo.audit(action="dnc_add")]
    assert phones == ["+86 (redacted)", "+8613800002001"]
    assert [e.phone for e in repo.dnc_check("+8613800002000")] == ["+8613800002000"]  # the list itself stays


def test_a_recording_path_outside_the_monitor_directory_is_never_deleted(store, tmp_path):
    config = settings(tmp_path)
    outside = tmp_path / "precious.wav"
    outside.write_bytes(b"keep me")
    store.create_call_sync(
        CallRecord(
            id="c-x",
            destination="+8613800003000",
            recording="../../../../precious.wav",
            created_at=NOW - timedelta(days=300),
        )
    )
    done = privacy.apply(store, config, actor="t")
    assert outside.read_bytes() == b"keep me"
    assert done.recordings == 1 and done.recordings_missing == 1


def test_zero_days_keeps_forever(store, clock, tmp_path):
    store.create_call_sync(
        CallRecord(id="c-old", destination="+8613800004000", created_at=NOW - timedelta(days=3000))
    )
    config = settings(
        tmp_path, recordings_days=0, transcripts_days=0, calls_days=0, leads_days=0, audit_days=0
    )
    assert privacy.apply(store, config, actor="t").total == 0
    assert store.get_call_sync("c-old").destination == "+8613800004000"


def test_masks():
    assert mask("+8613800138000") == "+86 (redacted)"
    assert mask("+14155550123") == "+1 (redacted)"
    assert mask("PJSIP/13800138000@carrier") == "PJSIP/(redacted)@carrier"
    assert mask("Local/play-hello@voicebot-lab/n") == "Local/play-hello@voicebot-lab/n"
    assert mask(mask("+8613800138000")) == "+86 (redacted)"


def test_the_retention_command(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VOICEBOT_")},
        "VOICEBOT_DATA_DIR": str(tmp_path / "data"),
        "VOICEBOT_RETENTION__CALLS_DAYS": "30",
        "VOICEBOT_RETENTION__RECORDINGS_DAYS": "7",
        "VOICEBOT_RETENTION__TRANSCRIPTS_DAYS": "7",
    }
    store = Store(f"sqlite:///{tmp_path / 'data' / 'voicebot.db'}")
    store.migrate()
    store.create_call_sync(
        CallRecord(id="c1", destination="+8613800005000", created_at=datetime.now(UTC) - timedelta(days=40))
    )
    store.close()
    run = [sys.executable, "-m", "voicebot", "retention"]
    out = subprocess.run(
        [*run, "--dry-run"], capture_output=True, text=True, env=env, cwd=tmp_path, check=True
    )
    assert "due: 0 recording(s), 0 transcript(s), 1 call record(s) anonymized" in out.stdout
    assert "calls 30 d" in out.stdout
    out = subprocess.run(run, capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    assert "removed: 0 recording(s), 0 transcript(s), 1 call record(s) anonymized" in out.stdout
    bad = subprocess.run(
        run, capture_output=True, text=True, env={**env, "VOICEBOT_RETENTION__CALLS_DAYS": "5"}, cwd=tmp_path
    )
    assert bad.returncode != 0 and "recordings_days must be between 1 and calls_days (5)" in bad.stderr
    assert "Traceback" not in bad.stderr


async def test_recordings_of_ended_calls_are_kept_as_opus_and_still_heard(store, clock, tmp_path):
    from tests.integration.test_whisper import MODEL, words
    from voicebot.lab import speak
    from voicebot.media import archive
    from voicebot.media.wavfile import write_call_audio
    from voicebot.speech.whisper import WhisperRecognizer

    config = settings(tmp_path)
    # a callee's words as the PBX records them: 8 kHz mono, with a pause around them
    pcm = speak([0.5, "Please take me off your list, I am not interested.", 0.5])
    for call_id, minutes_ago, content in (("old", 10, pcm), ("new", 1, pcm), ("broken", 10, None)):
        relative = f"voicebot/{call_id}.wav"
        path = config.recording_path(relative)
        if content is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"RIFF....WAVE")  # no audio in it
        else:
            write_call_audio(path, content)
        path.chmod(0o640)
        store.create_call_sync(CallRecord(id=call_id, destination="+8613800138000", recording=relative))
        store.update_call_sync(call_id, {"completed_at": NOW - timedelta(minutes=minutes_ago)})
    wav = config.recording_path("voicebot/old.wav")
    wav_size = wav.stat().st_size
    done = privacy.compress_recordings(store, config)
    assert (done.recordings, done.failed, done.wav_bytes) == (1, 1, wav_size)
    # the call points at the Opus file; the WAV is gone; the call still up a minute ago is not touched yet
    assert store.get_call_sync("old").recording == "voicebot/old.opus"
    opus = config.recording_path("voicebot/old.opus")
    assert not wav.exists() and opus.stat().st_mode & 0o777 == 0o640
    assert opus.stat().st_size == done.opus_bytes and done.opus_bytes * 5 < wav_size, (
        done.opus_bytes,
        wav_size,
    )
    assert store.get_call_sync("new").recording == "voicebot/new.wav" and store.get_call_sync(
        "broken"
    ).recording.endswith(".wav")
    # as long as before, and the words are all there
    assert abs(archive.duration(opus) - len(pcm) / 16000) < 0.1
    recognizer = WhisperRecognizer(MODEL, threads=2)
    try:
        text, *_ = await asyncio.to_thread(recognizer.transcribe, archive.decode(opus, 8000), None)
    finally:
        recognizer.close()
    assert {"take", "off", "list", "interested"} <= words(text), text
    assert privacy.compress_recordings(store, config).recordings == 0  # nothing left to do

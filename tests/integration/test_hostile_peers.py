"""Attacks on the PBX-facing servers from an address they allow (the PBX host itself, or
someone on it): a forged FastAGI request, and a second media session on a live call.

Strangers from other addresses are refused before a byte is read (tests/unit/test_peers.py).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from voicebot.app import App
from voicebot.telephony.audiosocket.codec import Frame, FrameDecoder, FrameType, encode

pytestmark = pytest.mark.asterisk


async def forged_agi(port: int, call_id: str, caller: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            "agi_network: yes\nagi_network_script: bot\nagi_channel: PJSIP/evil-00000001\n"
            f"agi_uniqueid: {call_id}\nagi_callerid: {caller}\nagi_arg_1: {call_id}\n\n"
        ).encode()
    )
    try:
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()


async def intrude(port: int, session: str) -> list[Frame]:
    """Connect to AudioSocket as ``session``, send some audio, return what came back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(encode(Frame(FrameType.UUID, uuid.UUID(session).bytes)))
    writer.write(encode(Frame(FrameType.AUDIO, bytes(320))) * 10)
    frames: list[Frame] = []
    decoder = FrameDecoder()
    while data := await asyncio.wait_for(reader.read(4096), 5):
        frames += decoder.feed(data)
    writer.close()
    return frames


async def test_a_forged_fastagi_call_is_hung_up_and_leaves_nothing(settings_for, tone_greeting):
    """Before: the invented call was adopted, recorded under the forged caller id, and handed the
    AudioSocket address, where one "take me off your list" put that number on the DNC list."""
    async with App(settings_for(call={"greeting": tone_greeting})) as app:
        assert app.agi is not None
        call_id = str(uuid.uuid4())
        first = await forged_agi(app.agi.port, call_id, "+8613800138000")
        assert first == b"HANGUP\n"  # not ANSWER, and never the AudioSocket address
        assert await app.store.get_call(call_id) is None
        assert app.store.campaigns.dnc_check("+8613800138000") == []
        assert app.calls is not None and app.calls.live_calls == 0


async def test_a_second_media_session_on_a_live_call_is_refused(settings_for, tone_greeting):
    """Before: a second AudioSocket connection with a live call's id got a bot session whose
    opt-out, transcript and transfer landed on the real call's record."""
    settings = settings_for(call={"greeting": tone_greeting, "listen_seconds": 4.0})
    async with App(settings) as app:
        assert app.calls is not None
        call = asyncio.create_task(app.call("Local/silent@voicebot-lab/n"))
        for _ in range(200):
            await asyncio.sleep(0.05)
            if app.audiosocket.streams:
                break
        (real,) = app.audiosocket.streams
        (record,) = await app.store.recent_calls(1)
        # the media session's id is not the call id (seen in AMI traffic and recording names)
        assert real.call_id != record.id
        frames = [await intrude(app.audiosocket.port, session) for session in (record.id, real.call_id)]
        outcome = await asyncio.wait_for(call, 30)
    # each intruder (the call's id, and the media id once in use) got a hangup at once, and no
    # audio of the call (at most the pacer's silence)
    for got in frames:
        assert got and got[-1].type is FrameType.HANGUP
        assert all(f.payload == bytes(len(f.payload)) for f in got if f.type is FrameType.AUDIO)
        assert len(got) <= 3
    assert len(app.audiosocket.streams) == 0
    record = outcome.record
    assert record.completed and record.disposition == "answered" and record.end_reason == "bot-hangup"
    assert record.callee_audio_rms < 0.001  # only the real (silent) callee was heard

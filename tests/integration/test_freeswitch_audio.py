"""Call audio both ways with the real lab FreeSWITCH over unicast UDP: what the bot plays is
what the callee hears (in FreeSWITCH's own recording of the call), what the callee says comes
in as 20 ms frames on time, and the stream ends when the call does."""

from __future__ import annotations

import asyncio
import uuid
import wave

import numpy as np

from voicebot.media import audio
from voicebot.media.stream import AudioIn, PlayResult
from voicebot.telephony.esl.client import EslClient
from voicebot.telephony.freeswitch import FreeSwitchPbx
from voicebot.telephony.pbx import OriginateRequest
from voicebot.telephony.unicast import UnicastServer


def _peak(signal: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(signal))
    return float(np.fft.rfftfreq(len(signal), 1 / 8000)[spectrum.argmax()])


async def test_audio_goes_both_ways_paced_and_the_stream_ends_with_the_call(freeswitch):
    # the admin's login: unicast is a sendmsg to the caller's side, which a call socket does in
    # production (the voicebot user sends none to channels it does not hold)
    esl = EslClient("127.0.0.1", freeswitch.port, freeswitch.password, keepalive=0)
    pbx = FreeSwitchPbx(esl)
    server = UnicastServer("127.0.0.1", 0, "127.0.0.1", range(31500, 31510))
    await esl.connect()
    await server.start()
    try:
        call_id = str(uuid.uuid4())
        # the callee answers and says "hello" (a recording); the caller's side waits parked
        handle = await pbx.originate(
            OriginateRequest(
                call_id, "loopback/play-hello/voicebot-lab", "voicebot-lab", "park", ring_timeout=3
            )
        )
        for _ in range(50):
            if handle.progress.answered_at is not None:
                break
            await asyncio.sleep(0.05)
        stream = server.open(call_id)
        await esl.sendmsg(
            call_id,
            "unicast",
            {
                "local-ip": "127.0.0.1",
                "local-port": str(stream.pbx_port),
                "remote-ip": "127.0.0.1",
                "remote-port": str(server.port),
                "transport": "udp",
            },
        )
        heard: list[AudioIn] = []

        async def listen() -> None:
            async for event in stream.events():
                if isinstance(event, AudioIn):
                    heard.append(event)

        listening = asyncio.create_task(listen())
        assert await stream.play(audio.tone(440, 1.5)) is PlayResult.COMPLETED
        await asyncio.sleep(0.3)
        await pbx.hangup(call_id)
        await handle.wait_settled(timeout=10)
        stream.ended()  # as the call's control connection would say
        await asyncio.wait_for(listening, 5)
    finally:
        await server.close()
        await esl.close()
    # the callee's words came in: 20 ms frames, about one every 20 ms, with sound in them
    assert len(heard) > 60 and all(len(e.pcm) == audio.FRAME_BYTES for e in heard)
    gaps = np.diff([e.at for e in heard])
    assert float(np.percentile(gaps, 95)) < 0.04, gaps
    said = np.frombuffer(b"".join(e.pcm for e in heard), dtype=np.int16).astype(float)
    assert np.sqrt((said**2).mean()) > 300
    # the callee heard the bot's tone (left of its recording: what it heard)
    with wave.open(str(freeswitch.recordings / "lab" / f"callee-{call_id}.wav")) as w:
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, w.getnchannels())
    left = frames[:, 0].astype(float)
    assert abs(_peak(left) - 440) < 5
    assert len(left[np.abs(left) > 1000]) / 8000 > 1.2  # ~1.5 s of it, not a fragment
    assert server.strangers == 0 and not server.streams

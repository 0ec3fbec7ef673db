"""Benchmark the call spine; prints figures, asserts nothing.

    set -a; eval "$(scripts/pbx.sh env)"; set +a
    .venv/bin/python bench/spine.py originate --calls 30
    .venv/bin/python bench/spine.py pacing --seconds 60 [--streams 50] [--transport unicast]
    .venv/bin/python bench/spine.py concurrent --calls 50

    # the same on the lab FreeSWITCH (its env sets [pbx] kind = "freeswitch")
    set -a; eval "$(scripts/freeswitch.sh env)"; set +a
    .venv/bin/python bench/spine.py originate --calls 30
    .venv/bin/python bench/spine.py concurrent --calls 50

originate   originate-to-answer time on the lab (sequential calls to an answering callee)
pacing      outgoing frame timing (AudioSocket, or FreeSWITCH's unicast UDP) seen by loopback
            peers: mean, jitter, late frames
concurrent  N simultaneous calls through the lab PBX with the minimal behaviour:
            all answered?, pacer late frames and underruns, CPU of voicebot and the PBX
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import tempfile
import time
import uuid
import wave
from pathlib import Path

import numpy as np
from figures import percentile

from voicebot.app import App
from voicebot.config import load_settings
from voicebot.media import audio
from voicebot.media.wavfile import read_call_audio, write_call_audio
from voicebot.telephony.audiosocket.codec import Frame, FrameDecoder, FrameType, encode
from voicebot.telephony.audiosocket.server import AudioSocketServer
from voicebot.telephony.unicast import UnicastServer

FREESWITCH = os.environ.get("VOICEBOT_PBX__KIND") == "freeswitch"
#: A lab callee that answers and says nothing, on the PBX the environment points at.
SILENT = "loopback/silent/voicebot-lab" if FREESWITCH else "Local/silent@voicebot-lab/n"
PBX = "FreeSWITCH" if FREESWITCH else "Asterisk"


def settings(tmp: Path, greeting_seconds: float, listen: float):
    greeting = tmp / "greeting.wav"
    write_call_audio(greeting, audio.tone(440, greeting_seconds, level=0.3))
    return load_settings(
        None,
        data_dir=tmp / "data",
        pbx_root=os.environ.get("VOICEBOT_PBX_ROOT", "/"),
        agi={"port": 0},
        audiosocket={"port": 0},
        callsocket={"port": 0},
        unicast={"port": 0},
        dial={"ring_timeout": 10},
        call={"greeting": greeting, "listen_seconds": listen},
    )


async def originate(calls: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with App(settings(Path(tmp), 0.2, 0.0)) as app:
            times = []
            for _ in range(calls):
                start = time.time()
                outcome = await app.call(SILENT)
                answered = outcome.record.answered_at
                assert answered is not None, outcome
                times.append((answered.timestamp() - start) * 1000)
    print(
        f"originate-to-answer over {calls} calls ({PBX}, silent lab callee, ms): "
        f"p50 {percentile(times, 50):.1f}  p95 {percentile(times, 95):.1f}  max {max(times):.1f}"
    )


async def unicast_pacing(seconds: float, streams: int) -> None:
    """The same measure for FreeSWITCH's unicast: UDP peers bound to the PBX-side ports."""
    import socket

    server = UnicastServer("127.0.0.1", 0, "127.0.0.1", range(33000, 33000 + streams))
    await server.start()
    loop = asyncio.get_running_loop()
    start, end = loop.time() + 1.0, loop.time() + 1.0 + seconds
    peers = []
    for _ in range(streams):
        stream = server.open(str(uuid.uuid4()))
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", stream.pbx_port))
        sock.setblocking(False)
        peers.append((stream, sock))
        asyncio.create_task(stream.play(audio.tone(440, seconds + 2)))  # noqa: RUF006 - ends with the server

    async def peer(sock) -> list[float]:
        stamps: list[float] = []
        while loop.time() < end:
            # the peer stays silent: the stream ends after SILENCE_TIMEOUT without it, so it answers
            sock.sendto(bytes(320), ("127.0.0.1", server.port))
            try:
                await asyncio.wait_for(loop.sock_recv(sock, 2048), 0.5)
            except TimeoutError:
                continue
            now = loop.time()
            if now >= start:
                stamps.append(now)
        sock.close()
        return stamps

    await asyncio.sleep(0)
    late0, under0 = server.clock.late_frames, server.clock.underruns
    runs = await asyncio.gather(*(peer(sock) for _, sock in peers))
    clock = server.clock
    await server.close()
    gaps = [(b - a) * 1000 for stamps in runs for a, b in itertools.pairwise(stamps) if b > a]
    frames = sum(len(r) for r in runs) / streams
    print(
        f"unicast pacing over {seconds:.0f} s, {streams} stream(s) on one socket: {frames:.0f} frames "
        f"per stream (expected {seconds * 50:.0f}), mean gap {statistics.mean(gaps):.3f} ms, "
        f"jitter (stdev) {statistics.pstdev(gaps):.3f} ms, p99 {percentile(gaps, 99):.2f} ms, "
        f"max {max(gaps):.2f} ms; late ticks {clock.late_frames - late0}, "
        f"underruns {clock.underruns - under0}"
    )


async def pacing(seconds: float, streams: int) -> None:
    done = asyncio.Event()

    async def hold(stream):
        await stream.play(audio.tone(440, seconds))
        await done.wait()

    server = AudioSocketServer("127.0.0.1", 0, hold)
    await server.start()
    loop = asyncio.get_running_loop()
    # measure after a 1 s warm-up, once every stream is connected and playing
    start = loop.time() + 1.0
    end = start + seconds
    warm = asyncio.create_task(asyncio.sleep(1.0))

    async def peer() -> list[float]:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(encode(Frame(FrameType.UUID, uuid.uuid4().bytes)))
        decoder = FrameDecoder()
        stamps: list[float] = []
        while loop.time() < end:
            data = await reader.read(4096)
            now = loop.time()
            n = sum(1 for f in decoder.feed(data) if f.type is FrameType.AUDIO)
            if now >= start:
                stamps += [now] * n
        writer.close()
        return stamps

    peers = [asyncio.create_task(peer()) for _ in range(streams)]
    await warm
    late0, under0 = server.clock.late_frames, server.clock.underruns
    runs = await asyncio.gather(*peers)
    done.set()
    clock = server.clock
    await server.close()
    # frames that arrive together in one read share a stamp; the spacing of distinct arrivals is the figure
    gaps = [(b - a) * 1000 for stamps in runs for a, b in itertools.pairwise(stamps) if b > a]
    frames = sum(len(r) for r in runs) / streams
    print(
        f"AudioSocket pacing over {seconds:.0f} s, {streams} stream(s) on one server: {frames:.0f} frames "
        f"per stream (expected {seconds * 50:.0f}), mean gap {statistics.mean(gaps):.3f} ms, "
        f"jitter (stdev) {statistics.pstdev(gaps):.3f} ms, p99 {percentile(gaps, 99):.2f} ms, "
        f"max {max(gaps):.2f} ms; late ticks {clock.late_frames - late0}, "
        f"underruns {clock.underruns - under0}"
    )


def heard_side(path: Path) -> bytes:
    """What the callee heard: Asterisk's receive-side file, or the left of FreeSWITCH's stereo one."""
    with wave.open(str(path)) as w:
        pcm = w.readframes(w.getnframes())
        channels = w.getnchannels()
    if channels == 1:
        return read_call_audio(path)
    return np.frombuffer(pcm, dtype=np.int16).reshape(-1, channels)[:, 0].copy().tobytes()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pbx_pid() -> int | None:
    pattern = "prefix/bin/freeswitch" if FREESWITCH else "/usr/sbin/asterisk -f -n"
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return int(out.split()[0]) if out.strip() else None


async def concurrent(calls: int, greeting: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        s = settings(Path(tmp), greeting, 2.0)
        async with App(s) as app:
            media = app.unicast if FREESWITCH else app.audiosocket
            assert media is not None
            clock = media.clock
            late0, under0 = clock.late_frames, clock.underruns
            ast = pbx_pid()
            cpu0, ast0, wall0 = cpu_seconds(os.getpid()), cpu_seconds(ast) if ast else 0.0, time.time()
            lags: list[float] = []
            stop = asyncio.Event()

            async def watch_lag() -> None:
                loop = asyncio.get_running_loop()
                while not stop.is_set():
                    t = loop.time()
                    await asyncio.sleep(0.01)
                    lags.append((loop.time() - t - 0.01) * 1000)

            watcher = asyncio.create_task(watch_lag())
            peak = 0

            async def count_peak() -> None:
                nonlocal peak
                while not stop.is_set():
                    peak = max(peak, len(media.streams))
                    await asyncio.sleep(0.05)

            counter = asyncio.create_task(count_peak())
            outcomes = await asyncio.gather(*(app.call(SILENT) for _ in range(calls)))
            stop.set()
            await asyncio.gather(watcher, counter)
            wall = time.time() - wall0
            cpu, ast_cpu = cpu_seconds(os.getpid()) - cpu0, (cpu_seconds(ast) - ast0) if ast else float("nan")
            late, under = clock.late_frames - late0, clock.underruns - under0
        answered = sum(o.disposition == "answered" for o in outcomes)
        bot_audio = [o.record.bot_audio_seconds or 0 for o in outcomes]
        # what the callees actually heard: the greeting's energy in each callee's receive recording
        root = Path(os.environ.get("VOICEBOT_PBX_ROOT", "/"))
        heard: list[int] = []
        onsets: list[int] = []
        for o in outcomes:
            if FREESWITCH:  # the callee's stereo recording: left is what it heard
                path = s.recording_path(f"lab/callee-{o.call_id}.wav")
            else:
                path = root / "var/spool/asterisk/monitor/voicebot-lab" / f"callee-{o.call_id}-heard.wav"
            if path.exists():
                frames = list(audio.split_frames(heard_side(path)))
                loud = [audio.rms(f) >= 0.05 for f in frames]
                onset = loud.index(True) if True in loud else 0
                onsets.append(onset * 20)
                # from the greeting's first frame to its last: any quiet frame is a gap the callee heard
                heard.append(loud[onset : onset + int(greeting * 50) - 2].count(False))
    print(
        f"{calls} simultaneous calls on {PBX} ({peak} media streams at peak, "
        f"{greeting:.0f} s greeting + 2 s listen): "
        f"{answered}/{calls} answered in {wall:.1f} s"
    )
    print(
        f"  pacer: late frames {late}, underruns {under}; event-loop lag p50 {percentile(lags, 50):.2f} ms, "
        f"p99 {percentile(lags, 99):.2f} ms, max {max(lags):.1f} ms"
    )
    print(
        f"  greeting sent in full: {sum(b >= greeting - 0.05 for b in bot_audio)}/{calls}; "
        f"callee recordings with a gap in the greeting (20 ms frames below -26 dBFS): "
        f"{sum(1 for h in heard if h)}/{len(heard)}, total gap frames {sum(heard)}"
    )
    print(
        f"  greeting onset after the callee answered: p50 {percentile(onsets, 50)} ms, "
        f"p95 {percentile(onsets, 95)} ms, max {max(onsets)} ms"
    )
    print(
        f"  CPU: voicebot {cpu / wall * 100:.0f}% of one core, {PBX} {ast_cpu / wall * 100:.0f}% "
        f"(2 cores in all)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("originate").add_argument("--calls", type=int, default=30)
    p = sub.add_parser("pacing")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--streams", type=int, default=1)
    p.add_argument("--transport", choices=["audiosocket", "unicast"], default="audiosocket")
    c = sub.add_parser("concurrent")
    c.add_argument("--calls", type=int, default=50)
    c.add_argument("--greeting", type=float, default=8.0)
    args = parser.parse_args()
    if args.what == "originate":
        asyncio.run(originate(args.calls))
    elif args.what == "pacing":
        measure = unicast_pacing if args.transport == "unicast" else pacing
        asyncio.run(measure(args.seconds, args.streams))
    else:
        asyncio.run(concurrent(args.calls, args.greeting))


if __name__ == "__main__":
    main()

"""Calls over the lab's SIP trunk at once; prints figures, asserts nothing.

    set -a; eval "$(scripts/pbx.sh env)"; set +a
    .venv/bin/python bench/trunk.py --calls 60 [--greeting 8] [--codec PCMA]

SIPp answers every call on 127.0.0.1:5070 (dialplans/asterisk/lab/sipp/answer.xml); its SDP
names the RTP port of a receiver running in a process of its own, which stamps every RTP
packet the bot's side sends (Asterisk, from the bot's AudioSocket audio). Figures: calls
answered, originate-to-answer, the spacing of each call's RTP packets while the greeting
plays (a gap over 40 ms is a click the callee hears), and CPU per call of voicebot and
Asterisk over the run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import percentile
from spine import asterisk_pid, cpu_seconds, settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.test_sip_trunk import carrier  # noqa: E402
from voicebot.app import App  # noqa: E402
from voicebot.calls.service import CallOutcome  # noqa: E402

GAP_MS = 40.0


def receive(out: Path, seconds: float) -> None:
    """The carrier's media side: stamp every RTP packet by its source (one per call); prints
    its port, and writes the stamps to ``out`` when stopped (SIGTERM)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    sock.settimeout(0.5)
    stamps: dict[str, list[float]] = {}
    end = time.monotonic() + seconds
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    while time.monotonic() < end and not stopping:
        try:
            data, source = sock.recvfrom(2048)
        except TimeoutError:
            continue
        if len(data) >= 12 and data[1] & 0x7F in (0, 8):  # voice, not telephone events
            stamps.setdefault(f"{source[0]}:{source[1]}", []).append(time.monotonic())
    out.write_text(json.dumps(stamps))


def spacing(stamps: dict[str, list[float]], greeting: float) -> tuple[list[float], dict[str, float]]:
    """Inter-packet gaps (ms) in each stream's first ``greeting`` seconds, and each stream's worst."""
    gaps: list[float] = []
    worst: dict[str, float] = {}
    for source, times in stamps.items():
        window = [t for t in times if t - times[0] <= greeting]
        mine = [(b - a) * 1000 for a, b in itertools.pairwise(window)]
        gaps += mine
        worst[source] = max(mine, default=0.0)
    return gaps, worst


async def watch_lag(lags: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        t = loop.time()
        await asyncio.sleep(0.01)
        lags.append((loop.time() - t - 0.01) * 1000)


async def run(calls: int, greeting: float, codec: str, rate: float) -> None:
    payload = {"PCMU": "0", "PCMA": "8"}[codec]
    endpoint = {"PCMU": "carrier", "PCMA": "carrier-alaw"}[codec]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        out = tmp / "stamps.json"
        receiver = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--receive", str(out), str(greeting + 40), stdout=subprocess.PIPE
        )
        assert receiver.stdout is not None
        port = (await receiver.stdout.readline()).decode().strip()
        s = settings(tmp, greeting, 2.0)
        s = s.model_copy(update={"dial": s.dial.model_copy(update={"caller_id": "+861012345678"})})
        with carrier(tmp, "answer.xml", codec=payload, codec_name=codec, media_port=port):
            await asyncio.sleep(0.3)
            async with App(s) as app:
                ast = asterisk_pid()
                cpu0, ast0, wall0 = cpu_seconds(os.getpid()), cpu_seconds(ast) if ast else 0.0, time.time()
                assert app.audiosocket is not None
                clock = app.audiosocket.clock
                late0 = clock.late_frames
                lags: list[float] = []
                watcher = asyncio.create_task(watch_lag(lags))

                async def one(i: int) -> tuple[float, CallOutcome]:
                    await asyncio.sleep(i / rate if rate else 0.0)
                    start = time.time()
                    return start, await app.call(f"PJSIP/1380013{i:04d}@{endpoint}")

                placed = await asyncio.gather(*(one(i) for i in range(calls)))
                watcher.cancel()
                late = clock.late_frames - late0
                wall = time.time() - wall0
                cpu = cpu_seconds(os.getpid()) - cpu0
                ast_cpu = (cpu_seconds(ast) - ast0) if ast else float("nan")
        receiver.terminate()
        await receiver.wait()
        stamps = json.loads(await asyncio.to_thread(out.read_text))
    outcomes = [o for _, o in placed]
    answered = [o for o in outcomes if o.disposition == "answered"]
    to_answer = [(o.record.answered_at.timestamp() - t) * 1000 for t, o in placed if o.record.answered_at]
    gaps, worst = spacing(stamps, greeting)
    over = [g for g in gaps if g > GAP_MS]
    others = sorted({o.disposition for o in outcomes} - {"answered"})
    print(
        f"{calls} simultaneous calls over the lab SIP trunk ({codec}, {greeting:.0f} s greeting "
        f"+ 2 s listen, "
        f"{'all originated at once' if not rate else f'originated {rate:g}/s'}): "
        f"{len(answered)}/{calls} answered{' (others: ' + ', '.join(others) + ')' if others else ''}, "
        f"{len(stamps)} RTP streams"
    )
    print(
        f"  originate-to-answer (ms): p50 {percentile(to_answer, 50):.0f}  "
        f"p95 {percentile(to_answer, 95):.0f}  max {max(to_answer):.0f}"
    )
    print(
        f"  bot RTP during the greeting: {len(gaps)} gaps, p50 {percentile(gaps, 50):.1f} ms, "
        f"p99 {percentile(gaps, 99):.1f} ms, max {max(gaps):.1f} ms; over {GAP_MS:.0f} ms: {len(over)} "
        f"in {sum(1 for w in worst.values() if w > GAP_MS)}/{len(worst)} calls"
    )
    print(
        f"  voicebot: pacer late frames {late}, event-loop lag p99 {percentile(lags, 99):.1f} ms, "
        f"max {max(lags):.1f} ms"
    )
    print(
        f"  CPU per call: voicebot {cpu / wall * 100 / calls:.2f}% of a core, asterisk "
        f"{ast_cpu / wall * 100 / calls:.2f}% (voicebot {cpu / wall * 100:.0f}%, asterisk "
        f"{ast_cpu / wall * 100:.0f}% in all, over {wall:.1f} s; 2 cores)"
    )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--receive":
        receive(Path(sys.argv[2]), float(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--greeting", type=float, default=8.0)
    parser.add_argument("--codec", choices=("PCMU", "PCMA"), default="PCMU")
    parser.add_argument("--rate", type=float, default=0.0, help="calls placed per second (0: all at once)")
    args = parser.parse_args()
    asyncio.run(run(args.calls, args.greeting, args.codec, args.rate))


if __name__ == "__main__":
    main()

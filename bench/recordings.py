"""Recordings kept as Ogg Opus: storage per recorded minute and the cost of compressing; prints
figures, asserts nothing.

    .venv/bin/python bench/recordings.py [--files 40] [--workers 2] [--dir MONITOR/voicebot]

Copies the largest call recordings the lab's Asterisk made (MixMonitor WAVs under its monitor
directory) to a scratch directory and compresses them ``--workers`` at a time, as the retention
round does: KB per recorded minute as WAV and as Opus, and the encoding time per recorded minute.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from figures import percentile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voicebot.media import archive  # noqa: E402

LAB = (
    Path(os.environ.get("VOICEBOT_PBX_ROOT", "/var/lib/voicebot-lab/root"))
    / "var/spool/asterisk/monitor/voicebot"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=LAB)
    args = parser.parse_args()
    sources = sorted(args.dir.glob("*.wav"), key=lambda p: p.stat().st_size, reverse=True)[: args.files]
    if not sources:
        sys.exit(f"no recordings in {args.dir}: run the lab tests or the demo first")
    with tempfile.TemporaryDirectory() as tmp:
        copies = [Path(shutil.copy(p, Path(tmp) / p.name)) for p in sources]
        minutes = [archive.duration(p) / 60 for p in copies]
        wav_bytes = [p.stat().st_size for p in copies]

        def one(path: Path) -> tuple[float, int]:
            started = time.perf_counter()
            out = archive.compress(path)
            return time.perf_counter() - started, out.stat().st_size

        started = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            done = list(pool.map(one, copies))
        wall = time.perf_counter() - started
    total = sum(minutes)
    per_minute = [t / m for (t, _), m in zip(done, minutes, strict=True) if m > 0]
    print(f"{len(copies)} lab call recordings, {total:.1f} recorded minutes, {args.workers} at a time:")
    print(
        f"  storage per recorded minute: WAV {sum(wav_bytes) / 1024 / total:.0f} KB, "
        f"Opus {sum(s for _, s in done) / 1024 / total:.0f} KB "
        f"({sum(wav_bytes) / sum(s for _, s in done):.1f}x smaller)"
    )
    print(
        f"  encoding per recorded minute: p50 {percentile(per_minute, 50) * 1000:.0f} ms, "
        f"p95 {percentile(per_minute, 95) * 1000:.0f} ms, max {max(per_minute) * 1000:.0f} ms; "
        f"{total / wall:.0f} recorded minutes compressed per second of wall time"
    )


if __name__ == "__main__":
    main()

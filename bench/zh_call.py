"""The Chinese sample script end to end through the lab Asterisk, N times: how often a Mandarin
callee is heard and answered as the script means; prints, asserts nothing.

    set -a; eval "$(scripts/pbx.sh env)"; set +a
    .venv/bin/python bench/zh_call.py [--calls 3]

The callee (espeak-ng's cmn-latn-pinyin voice, slowed to 110 words a minute) asks 你是机器人吗,
then, after the bot's answer, 我现在很忙，明天再打吧. Heard by the multilingual Whisper base
(`voicebot models fetch whisper-base`); a success is the `is_robot` answer then the callback exit.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from speech import app_settings, lab_paths

from voicebot.lab import speak
from voicebot.media import audio
from voicebot.media.wavfile import write_call_audio

ROOT = Path(__file__).resolve().parents[1]


async def main(calls: int) -> None:
    from voicebot.app import App
    from voicebot.speech import models

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        settings = app_settings(
            tmp,
            speech={
                "engine": "whisper",
                "model": str(models.assemble("whisper-base", tmp / "models")),
                "language": "zh",
            },
            script=ROOT / "intents/broadband-zh",
            listen_seconds=4.0,
        )
        sounds, _ = lab_paths()
        async with App(settings) as app:
            script = app.script
            assert script is not None
            opening = audio.duration(
                await app.prompts.audio(script.prompt("opening", script.flow.nodes["opening"].say))
            )
            answer = audio.duration(
                await app.prompts.audio(script.prompt("is_robot", script.flow.globals["is_robot"].say))
            )
            parts: list[float | str] = [
                opening + 1.0,
                "你是机器人吗",
                answer + 4.0,
                "我现在很忙，明天再打吧",
                8.0,
            ]
            pcm = await asyncio.to_thread(speak, parts, "cmn-latn-pinyin", 110)
            write_call_audio(sounds / "bench-zh-call.wav", pcm)
            ok = 0
            for i in range(calls):
                outcome = await app.call("Local/talk-bench-zh-call@voicebot-lab/n")
                r = outcome.record
                heard = [t["text"] for t in r.transcript if t["speaker"] == "callee"]
                good = r.outcome == "callback" and r.intents == ["is_robot", "busy_call_later"]
                ok += good
                print(
                    f"call {i + 1}: {'as meant' if good else 'NOT as meant'}: "
                    f"{r.outcome}, {r.intents}, heard {heard}"
                )
    print(f"{ok} of {calls} calls went as the script means")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=3)
    asyncio.run(main(parser.parse_args().calls))

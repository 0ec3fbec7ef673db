"""Playout queue and frame clock: the pure parts of outgoing audio pacing."""

import asyncio

from voicebot.media.audio import FRAME_BYTES
from voicebot.media.pacing import FrameClock, Playout
from voicebot.media.stream import PlayResult


def test_clock_sends_one_frame_per_period():
    clock = FrameClock(start=100.0)
    assert clock.due(100.0) == 1
    assert clock.due(100.019) == 0
    assert clock.due(100.020) == 1
    assert abs(clock.next_deadline() - 100.040) < 1e-9


def test_clock_catches_up_a_late_tick_and_counts_it():
    clock = FrameClock(start=0.0)
    clock.due(0.0)
    assert clock.due(0.065) == 3  # frames 1, 2, 3 were due by 60 ms
    assert clock.late_frames == 2
    assert clock.underruns == 0


def test_clock_restarts_after_a_long_stall():
    clock = FrameClock(start=0.0, max_burst=5)
    clock.due(0.0)
    assert clock.due(1.0) == 1
    assert clock.underruns == 1
    assert abs(clock.next_deadline() - 1.020) < 1e-9


async def test_playout_frames_in_order_then_idle():
    playout = Playout()
    done = playout.enqueue(b"\x01" * (FRAME_BYTES + 10))
    first, second = playout.next_frame(), playout.next_frame()
    assert first == b"\x01" * FRAME_BYTES
    assert second == b"\x01" * 10 + bytes(FRAME_BYTES - 10)  # padded with silence
    assert done.result() is PlayResult.COMPLETED
    assert playout.next_frame() is None


async def test_playout_clear_interrupts_pending():
    playout = Playout()
    a = playout.enqueue(bytes(FRAME_BYTES * 3))
    b = playout.enqueue(bytes(FRAME_BYTES))
    playout.next_frame()
    playout.clear()
    assert a.result() is PlayResult.INTERRUPTED
    assert b.result() is PlayResult.INTERRUPTED
    assert playout.next_frame() is None and not playout.busy


async def test_cancelled_play_is_skipped():
    playout = Playout()
    a = playout.enqueue(bytes(FRAME_BYTES * 2))
    b = playout.enqueue(b"\x02" * FRAME_BYTES)
    a.cancel()
    assert playout.next_frame() == b"\x02" * FRAME_BYTES
    assert b.result() is PlayResult.COMPLETED
    await asyncio.sleep(0)


def test_a_token_bucket_allows_its_burst_then_its_rate():
    from voicebot.media.pacing import TokenBucket

    bucket = TokenBucket(rate=10, burst=20, now=0.0)
    assert sum(bucket.take(1, 0.0) for _ in range(100)) == 20  # the burst at once
    assert not bucket.take(1, 0.05)  # half a token has come back
    assert sum(bucket.take(1, 1.0) for _ in range(100)) == 10  # then the rate
    assert not bucket.take(25, 100.0)  # never more than the burst, however long it waited
    assert bucket.take(20, 100.0)

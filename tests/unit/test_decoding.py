"""The shared decode pool: earliest deadline first, cancelled jobs skipped, errors delivered."""

import asyncio
import threading

import pytest

from voicebot.speech.decoding import DecodePool


async def blocked_pool() -> tuple[DecodePool, threading.Event, asyncio.Task[str]]:
    """A one-thread pool whose thread is busy until the returned event is set."""
    pool = DecodePool(1, name="test")
    gate, taken = threading.Event(), threading.Event()

    def block() -> str:
        taken.set()
        gate.wait(5)
        return "busy"

    busy = asyncio.create_task(pool.run(block))
    await asyncio.to_thread(taken.wait, 5)  # the thread has taken the blocking job
    return pool, gate, busy


async def test_the_nearest_deadline_runs_first():
    pool, gate, busy = await blocked_pool()
    order: list[str] = []
    jobs = [
        asyncio.create_task(pool.run(order.append, name, within=within))
        for name, within in [("stream", 0.3), ("speculation", 0.5), ("final", 0.0), ("other-final", 0.01)]
    ]
    await asyncio.sleep(0.01)
    assert pool.queued == 4
    gate.set()
    await asyncio.gather(busy, *jobs)
    assert order == ["final", "other-final", "stream", "speculation"]
    pool.close()


async def test_a_cancelled_job_never_runs():
    pool, gate, busy = await blocked_pool()
    ran: list[str] = []
    dropped = asyncio.create_task(pool.run(ran.append, "dropped"))
    kept = asyncio.create_task(pool.run(ran.append, "kept", within=1.0))
    await asyncio.sleep(0.01)
    dropped.cancel()
    gate.set()
    await asyncio.gather(busy, kept)
    assert ran == ["kept"]
    assert dropped.cancelled()
    pool.close()


async def test_errors_reach_the_caller_and_the_thread_goes_on():
    pool = DecodePool(2, name="test")

    def boom() -> None:
        raise ValueError("bad audio")

    with pytest.raises(ValueError, match="bad audio"):
        await pool.run(boom)
    assert await pool.run(lambda: 42) == 42
    pool.close()


async def test_workers_decode_in_parallel():
    pool = DecodePool(2, name="test")
    both = threading.Barrier(2, timeout=2)  # passes only if two jobs run at the same time
    await asyncio.gather(pool.run(both.wait), pool.run(both.wait))
    pool.close()


async def test_close_cancels_what_waits():
    pool, gate, busy = await blocked_pool()
    waiting = asyncio.create_task(pool.run(lambda: "never"))
    await asyncio.sleep(0.01)
    closing = asyncio.get_running_loop().run_in_executor(None, pool.close)
    await asyncio.sleep(0.01)
    gate.set()
    await closing
    assert await busy == "busy"
    with pytest.raises(asyncio.CancelledError):
        await waiting
    with pytest.raises(RuntimeError, match="closed"):
        await pool.run(lambda: None)


def test_capacity_is_measured_per_core_or_configured():
    from voicebot.speech.capacity import capacity

    assert capacity("whisper", 2) == 2  # the latency target holds for two calls on two cores
    assert capacity("whisper", 8) == 8
    assert capacity("vosk", 1) == 1  # never less than one
    assert capacity("none", 2) == 50
    assert capacity("whisper", 2, configured=6) == 6

"""Recognition capacity shared by every call of the process: a few decoder threads, earliest
deadline first.

A call's turn is only as late as its slowest decode, and with many calls the decodes
queue. A first-come queue lets one chatty call delay another's end of turn behind
frames that could wait; here every job carries the time by which its result is
needed, and a free thread takes the job whose deadline is nearest. A turn that has
ended (the bot is waiting on its transcript) asks for ``now``; streaming frames and
speculative transcriptions ask for later, so they fill the gaps. A job whose caller
stopped waiting (cancelled) is dropped before it starts.

Decoding runs in threads: vosk and CTranslate2 release the GIL, so ``workers`` threads
use that many cores. One thread per core is the right size: more only interleave the
same cores and make every job later.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(order=True)
class _Job:
    deadline: float
    seq: int
    fn: Callable[..., Any] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    future: asyncio.Future[Any] = field(compare=False)
    loop: asyncio.AbstractEventLoop = field(compare=False)


class DecodePool:
    """``workers`` decoder threads shared by every call; jobs served earliest deadline first."""

    def __init__(self, workers: int, *, name: str = "decode", clock: Callable[[], float] = time.monotonic):
        if workers < 1:
            raise ValueError("a decode pool needs at least one worker")
        self.workers = workers
        self._clock = clock
        self._heap: list[_Job] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        #: Jobs that started after their deadline (for figures and logs).
        self.late = 0
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    @property
    def queued(self) -> int:
        with self._cond:
            return len(self._heap)

    async def run(self, fn: Callable[..., T], *args: Any, within: float = 0.0) -> T:
        """``fn(*args)`` on a decoder thread, needed ``within`` seconds from now."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = _Job(self._clock() + within, next(self._seq), fn, args, future, loop)
        with self._cond:
            if self._closed:
                raise RuntimeError("the decode pool is closed")
            heapq.heappush(self._heap, job)
            self._cond.notify()
        return await future  # cancelling this marks the job cancelled: it is skipped if not started

    def close(self) -> None:
        """Finish the jobs already running; drop the queued ones."""
        with self._cond:
            self._closed = True
            dropped, self._heap = self._heap, []
            self._cond.notify_all()
        for job in dropped:
            _deliver(job, _cancel, None)
        for t in self._threads:
            t.join()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._heap and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = heapq.heappop(self._heap)
            if job.future.done():  # its caller stopped waiting
                continue
            if self._clock() > job.deadline:
                self.late += 1
            try:
                result = job.fn(*job.args)
            except BaseException as e:  # handed to the waiting call, never lost in the thread
                _deliver(job, _fail, e)
            else:
                _deliver(job, _resolve, result)


def _deliver(job: _Job, how: Callable[[asyncio.Future[Any], Any], None], value: Any) -> None:
    try:
        job.loop.call_soon_threadsafe(how, job.future, value)
    except RuntimeError:  # the caller's loop is closed: nobody is waiting any more
        pass


def _resolve(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _cancel(future: asyncio.Future[Any], _: object) -> None:
    if not future.done():
        future.cancel()

"""Load loops the pub/sub and state scenarios drive the sidecar and the raw stores with, in the bench process.

``drive``: closed loop, one async operation called ``count`` times by a fixed number of workers, each starting its
next call when the previous one answered (throughput). ``pace``: open loop, call ``i`` started at
``start + i / rate`` whether or not earlier calls answered (latency at a load the system sustains). Both return
per-call latencies, the rate and failures, and log progress every few seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.stats import LatencySummary, rate_per_s

log = logging.getLogger("bench.load")

PROGRESS_EVERY_S = 5.0

Operation = Callable[[int], Awaitable[object]]


async def drive(what: str, op: Operation, count: int, workers: int) -> dict[str, Any]:
    """Call ``op(i)`` for i in 0..count-1 from ``workers`` concurrent loops; an exception counts as a failure
    (the first one is kept) and the loop goes on, so one bad call does not hide the rest of the figure."""
    latencies: list[int] = []
    failures: list[str] = []
    indexes = iter(range(count))

    async def worker() -> None:
        for i in indexes:
            start = time.perf_counter_ns()
            try:
                await op(i)
            except Exception as exc:  # counted and reported, the run goes on
                failures.append(f"{type(exc).__name__}: {exc}")
                continue
            latencies.append(time.perf_counter_ns() - start)

    reporter = asyncio.create_task(_progress(what, count, latencies, failures))
    began = time.perf_counter_ns()
    try:
        await asyncio.gather(*(worker() for _ in range(max(1, min(workers, count)))))
    finally:
        reporter.cancel()
    return _outcome(what, count, latencies, failures, time.perf_counter_ns() - began)


async def pace(what: str, op: Operation, count: int, per_second: float, max_in_flight: int = 256) -> dict[str, Any]:
    """Start ``op(i)`` at ``start + i / rate``; at most ``max_in_flight`` unanswered (past that the loop waits, and
    the lag shows in ``behind_s``: the pacing then no longer holds)."""
    latencies: list[int] = []
    failures: list[str] = []
    slots = asyncio.Semaphore(max_in_flight)

    async def one(i: int) -> None:
        start = time.perf_counter_ns()
        try:
            await op(i)
            latencies.append(time.perf_counter_ns() - start)
        except Exception as exc:  # counted and reported, the run goes on
            failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            slots.release()

    reporter = asyncio.create_task(_progress(what, count, latencies, failures))
    began = time.perf_counter_ns()
    tasks: list[asyncio.Task[None]] = []
    behind_ns = 0
    try:
        for i in range(count):
            due = began + int(i * 1e9 / per_second)
            wait_ns = due - time.perf_counter_ns()
            if wait_ns > 0:
                await asyncio.sleep(wait_ns / 1e9)
            await slots.acquire()
            behind_ns = max(behind_ns, time.perf_counter_ns() - due)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    finally:
        reporter.cancel()
    out = _outcome(what, count, latencies, failures, time.perf_counter_ns() - began)
    out["behind_s"] = round(behind_ns / 1e9, 3)
    return out


async def _progress(what: str, count: int, latencies: list[int], failures: list[str]) -> None:
    while True:
        await asyncio.sleep(PROGRESS_EVERY_S)
        log.info("%s: %d of %d done, %d failed", what, len(latencies), count, len(failures))


def _outcome(what: str, count: int, latencies: list[int], failures: list[str], elapsed: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rate_per_s": rate_per_s(len(latencies), elapsed), "latency": LatencySummary.of_ns(latencies).as_dict(),
        "count": len(latencies), "failed": len(failures), "first_failure": failures[0] if failures else None,
        "elapsed_s": round(elapsed / 1e9, 3)}
    log.info("%s: %d calls in %.1fs, %.0f/s, p99 %.2f ms, %d failed", what, count, elapsed / 1e9,
             out["rate_per_s"], out["latency"]["p99_ms"], len(failures))
    return out

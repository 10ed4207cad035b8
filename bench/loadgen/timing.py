"""Timed loops with a fixed number of concurrent callers, and the result shape every load client returns."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.stats import LatencySummary, rate_per_s


@dataclass
class OpTimings:
    """How many operations, over how long, each call's latency, and the failures (with the first few errors)."""

    ops: int = 0
    elapsed_ns: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def fail(self, exc: BaseException) -> None:
        self.failed += 1
        if len(self.errors) < 5:
            self.errors.append(f"{type(exc).__name__}: {exc}"[:500])

    def as_result(self, **extra: Any) -> dict[str, Any]:
        return {
            "ops": self.ops,
            "elapsed_ns": self.elapsed_ns,
            "rate_per_s": rate_per_s(self.ops, self.elapsed_ns),
            "latency": LatencySummary.of_ns(self.latencies_ns).as_dict(),
            "failed": self.failed,
            "errors": self.errors,
            **extra,
        }


async def async_loop(count: int, concurrency: int, op: Callable[[int], Awaitable[object]], batch: int = 1) -> OpTimings:
    """Run ``op(i)`` for i in 0..count-1 with ``concurrency`` callers, each taking the next index when free.

    With ``batch > 1`` a call covers indexes i..i+batch-1 (``op`` gets the first) and counts as that many
    operations; latencies are per call.
    """
    timings = OpTimings()
    next_index = 0

    async def caller() -> None:
        nonlocal next_index
        while next_index < count:
            i = next_index
            next_index += batch
            t0 = time.perf_counter_ns()
            try:
                await op(i)
            except Exception as exc:
                timings.fail(exc)
                continue
            timings.latencies_ns.append(time.perf_counter_ns() - t0)
            timings.ops += min(batch, count - i)

    start = time.perf_counter_ns()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    timings.elapsed_ns = time.perf_counter_ns() - start
    return timings


def thread_loop(count: int, threads: int, make_op: Callable[[], Callable[[int], object]]) -> OpTimings:
    """Run ``op(i)`` for i in 0..count-1 on ``threads`` threads; each thread builds its own ``op`` (its own client).

    Clients are built before the clock starts, so connection set-up is not measured.
    """
    timings = OpTimings()
    lock = threading.Lock()
    next_index = 0
    ops = [make_op() for _ in range(threads)]
    go = threading.Event()

    def worker(op: Callable[[int], object]) -> None:
        nonlocal next_index
        go.wait()
        local: list[int] = []
        while True:
            with lock:
                i = next_index
                next_index += 1
            if i >= count:
                break
            t0 = time.perf_counter_ns()
            try:
                op(i)
            except Exception as exc:
                with lock:
                    timings.fail(exc)
                continue
            local.append(time.perf_counter_ns() - t0)
        with lock:
            timings.latencies_ns.extend(local)
            timings.ops += len(local)

    pool = [threading.Thread(target=worker, args=(op,), daemon=True) for op in ops]
    for t in pool:
        t.start()
    start = time.perf_counter_ns()
    go.set()
    for t in pool:
        t.join()
    timings.elapsed_ns = time.perf_counter_ns() - start
    return timings

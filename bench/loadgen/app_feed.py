"""Feeding the bench app directly over its gRPC port, with no scheduler or sidecar in between: the app ceilings.

``direct`` sends ``count`` job events as fast as ``concurrency`` callers can (trigger ceiling (a)); ``timed`` sends
each event at its due instant (the floor for lateness and recurring). Requests are built exactly as a sidecar builds
them (wire-compat §C.1) and sent on ``AppCallbackAlpha/OnJobEventAlpha1``, the RPC every SDK app serves.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import appcallback_pb2, appcallback_pb2_grpc
from google.protobuf import any_pb2

from bench.duedata import DueData
from bench.loadgen.timing import OpTimings, async_loop

_POST = common_pb2.HTTPExtension(verb=common_pb2.HTTPExtension.POST)


def job_event(name: str, data: bytes) -> appcallback_pb2.JobEventRequest:
    return appcallback_pb2.JobEventRequest(name=name, data=any_pb2.Any(type_url="", value=data), method=f"job/{name}",
                                           content_type="", http_extension=_POST)


async def direct(args: dict[str, Any]) -> dict[str, Any]:
    """``count`` events for ``<prefix>0..`` at ``concurrency``; each carries 'due now' so the app records it."""
    count, concurrency, prefix = int(args["count"]), int(args.get("concurrency", 32)), args["prefix"]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{args['app_port']}") as channel:
        stub = appcallback_pb2_grpc.AppCallbackAlphaStub(channel)

        async def op(i: int) -> None:
            await stub.OnJobEventAlpha1(job_event(f"{prefix}{i}", DueData(time.time_ns()).encode()))

        timings = await async_loop(count, concurrency, op)
    return timings.as_result(concurrency=concurrency)


async def timed(args: dict[str, Any]) -> dict[str, Any]:
    """Each job ``i`` of ``count`` is due at ``due_start_ns + i * spacing_ns`` and, with ``repeats`` > 1, again every
    ``period_ns``; every delivery is sent at (never before) its due instant, ``concurrency`` at most in flight."""
    count, prefix = int(args["count"]), args["prefix"]
    start, spacing = int(args["due_start_ns"]), int(args.get("spacing_ns", 0))
    period, repeats = int(args.get("period_ns", 0)), int(args.get("repeats", 1))
    concurrency = int(args.get("concurrency", 32))
    plan = sorted(
        (start + i * spacing + k * period, f"{prefix}{i}", DueData(start + i * spacing, period).encode())
        for i in range(count)
        for k in range(repeats)
    )
    timings = OpTimings()
    gate = asyncio.Semaphore(concurrency)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{args['app_port']}") as channel:
        stub = appcallback_pb2_grpc.AppCallbackAlphaStub(channel)

        async def send(name: str, data: bytes) -> None:
            t0 = time.perf_counter_ns()
            try:
                await stub.OnJobEventAlpha1(job_event(name, data))
                timings.latencies_ns.append(time.perf_counter_ns() - t0)
                timings.ops += 1
            except grpc.aio.AioRpcError as exc:
                timings.fail(exc)
            finally:
                gate.release()

        tasks: list[asyncio.Task[None]] = []
        began = time.perf_counter_ns()
        for due, name, data in plan:
            wait_ns = due - time.time_ns()
            if wait_ns > 1_000_000:
                await asyncio.sleep((wait_ns - 500_000) / 1e9)
            # asyncio may wake a little early; the floor must never be early, so spin out the remainder.
            while time.time_ns() < due:  # noqa: ASYNC110 - sub-millisecond waits, an Event cannot express them
                await asyncio.sleep(0)
            await gate.acquire()
            tasks.append(asyncio.create_task(send(name, data)))
        await asyncio.gather(*tasks)
        timings.elapsed_ns = time.perf_counter_ns() - began
    return timings.as_result(concurrency=concurrency)

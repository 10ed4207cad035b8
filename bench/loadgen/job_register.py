"""Scheduling jobs the way users do: the official Python SDK (sync ``DaprClient``) and the HTTP Jobs API.

Job ``i`` is named ``<prefix><i>``, due at ``due_start_ns + i * spacing_ns``, optionally with a ``schedule`` and
``repeats``, and carries ``bench.duedata`` JSON (SDK style: an ``Any`` with an empty type URL) so the receiving app
can tell how late it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.duedata import DueData, rfc3339_ns
from bench.loadgen.timing import async_loop, thread_loop


@dataclass(frozen=True)
class JobPlan:
    prefix: str
    count: int
    due_start_ns: int
    spacing_ns: int = 0
    period_ns: int = 0
    schedule: str | None = None
    repeats: int | None = None

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> JobPlan:
        return cls(prefix=args["prefix"], count=int(args["count"]), due_start_ns=int(args["due_start_ns"]),
                   spacing_ns=int(args.get("spacing_ns", 0)), period_ns=int(args.get("period_ns", 0)),
                   schedule=args.get("schedule"), repeats=args.get("repeats"))

    def name(self, i: int) -> str:
        return f"{self.prefix}{i}"

    def due_ns(self, i: int) -> int:
        return self.due_start_ns + i * self.spacing_ns

    def data(self, i: int) -> bytes:
        return DueData(self.due_ns(i), self.period_ns).encode()


def sdk_register(args: dict[str, Any]) -> dict[str, Any]:
    """``DaprClient().schedule_job`` from ``threads`` threads, each with its own client."""
    os.environ["DAPR_HTTP_PORT"] = str(args["http_port"])
    os.environ["DAPR_GRPC_PORT"] = str(args["grpc_port"])
    # Imported after the environment is set: the SDK's health probe reads it.
    from dapr.clients import DaprClient
    from dapr.clients.grpc._jobs import Job
    from google.protobuf.any_pb2 import Any as GrpcAny

    plan = JobPlan.from_args(args)

    def make_op() -> Callable[[int], object]:
        client = DaprClient(address=f"127.0.0.1:{args['grpc_port']}")

        def op(i: int) -> object:
            job = Job(name=plan.name(i), due_time=rfc3339_ns(plan.due_ns(i)), schedule=plan.schedule,
                      repeats=plan.repeats, data=GrpcAny(value=plan.data(i)))
            return client.schedule_job(job)

        return op

    timings = thread_loop(plan.count, int(args.get("threads", 8)), make_op)
    return timings.as_result(api="sdk-grpc", threads=int(args.get("threads", 8)))


async def http_register(args: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1.0/jobs/<name>`` with ``concurrency`` requests in flight over keep-alive connections."""
    import aiohttp

    plan = JobPlan.from_args(args)
    concurrency = int(args.get("concurrency", 8))
    base = f"http://127.0.0.1:{args['http_port']}/v1.0/jobs/"
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def op(i: int) -> None:
            body: dict[str, Any] = {"dueTime": rfc3339_ns(plan.due_ns(i)),
                                    "data": {"due": rfc3339_ns(plan.due_ns(i)), "period_ns": plan.period_ns}}
            if plan.schedule:
                body["schedule"] = plan.schedule
            if plan.repeats is not None:
                body["repeats"] = plan.repeats
            async with session.post(base + plan.name(i), json=body) as resp:
                if resp.status != 204:
                    raise RuntimeError(f"HTTP {resp.status}: {(await resp.text())[:300]}")

        timings = await async_loop(plan.count, concurrency, op)
    return timings.as_result(api="http", concurrency=concurrency)


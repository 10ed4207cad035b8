"""Scenario invoke: service invocation round trips through two sidecars (caller's, target's) to an HTTP app.

``POST /v1.0/invoke/invoke-target/method/echo`` on the caller's sidecar, with a small JSON body, from one aiohttp
client with a fixed number of requests in flight: round trips/s, p50/p99/max. Ceiling, same run, same client: the
target app called directly. Name resolution goes through the etcd both sidecars share (a state.etcd component).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import aiohttp

from bench.report import Figure
from bench.scenario import ScenarioContext
from bench.stats import LatencySummary, rate_per_s
from tests.support.processes import tcp_open
from tests.support.waiting import wait_until

IN_FLIGHT = 16
TARGET_ID = "invoke-target"
BODY = b'{"order": 42, "items": ["a", "b", "c"]}'
DIRECT = f"target app called directly, {IN_FLIGHT} in flight"


async def _drive(url: str, count: int) -> dict[str, Any]:
    latencies: list[int] = []
    failed = 0
    remaining = iter(range(count))

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal failed
        for _ in remaining:
            start = time.perf_counter_ns()
            async with session.post(url, data=BODY, headers={"Content-Type": "application/json"}) as resp:
                await resp.read()
                if resp.status != 200:
                    failed += 1
            latencies.append(time.perf_counter_ns() - start)

    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(min(50, count))))  # warm-up connections
        latencies.clear()
        remaining = iter(range(count))
        began = time.perf_counter_ns()
        await asyncio.gather(*(worker(session) for _ in range(IN_FLIGHT)))
        elapsed = time.perf_counter_ns() - began
    return {"rate_per_s": rate_per_s(len(latencies), elapsed), "latency": LatencySummary.of_ns(latencies).as_dict(),
            "failed": failed, "count": len(latencies)}


def _resources(ctx: ScenarioContext, etcd_endpoint: str) -> str:
    directory = ctx.workdir / "resources"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "statestore.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.etcd\n"
        f"  version: v2\n  metadata:\n  - name: endpoints\n    value: {etcd_endpoint.removeprefix('http://')}\n"
        "  - name: actorStateStore\n    value: \"true\"\n")
    return str(directory)


def run(ctx: ScenarioContext) -> None:
    count = ctx.count(20_000, 2_000)
    ctx.result.size.update(round_trips=count, in_flight=IN_FLIGHT)
    stack = ctx.stack()
    etcd = stack.start_etcd()
    resources = ["--resources-path", _resources(ctx, etcd.endpoint)]
    app_port = stack.ports.take()
    app = ctx.sup.start("app-invoke-target", [sys.executable, "-m", "bench.apps.invoke_target", "--port",
                                              str(app_port)])
    wait_until(lambda: tcp_open("127.0.0.1", app_port), 60, "invoke target app", watch=[app])
    stack.start_sidecar(TARGET_ID, app_port, "http", extra_args=resources, label="sidecar-target")
    caller = stack.start_sidecar("invoke-caller", 0, "http", extra_args=resources, label="sidecar-caller")
    ctx.watch_usage(stack)
    url = f"http://127.0.0.1:{caller.http_port}/v1.0/invoke/{TARGET_ID}/method/echo"
    wait_until(lambda: asyncio.run(_drive(url, 1))["failed"] == 0, 60, "target resolvable from the caller")

    with ctx.profile("direct", stack):
        direct = asyncio.run(_drive(f"http://127.0.0.1:{app_port}/echo", count))
    with ctx.profile("invoke", stack) as cpu:
        invoked = asyncio.run(_drive(url, count))
    ctx.detail("direct", direct)
    ctx.detail("invoke", invoked)
    if invoked["failed"]:
        ctx.note(f"{invoked['failed']} of {count} invocations failed")
    r = ctx.result
    d_lat, i_lat = direct["latency"], invoked["latency"]
    r.add(Figure("round trips/s via 2 sidecars", invoked["rate_per_s"], "1/s", direct["rate_per_s"], DIRECT))
    r.add(Figure("invoke p50", i_lat["p50_ms"], "ms", d_lat["p50_ms"], DIRECT))
    r.add(Figure("invoke p99", i_lat["p99_ms"], "ms", d_lat["p99_ms"], DIRECT))
    r.add(Figure("invoke max", i_lat["max_ms"], "ms", d_lat["max_ms"], DIRECT))
    r.add(Figure("failed invocations", invoked["failed"], "calls"))
    for name, seconds in cpu.items():
        if name.startswith("sidecar"):
            r.add(Figure(f"{name} CPU per invocation", seconds * 1000 / count, "ms"))

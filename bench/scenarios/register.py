"""Scenario 1, register: ScheduleJob through the official Python SDK (sync ``DaprClient``, 8 threads) and through
the HTTP Jobs API (8 requests in flight): jobs/s and p50/p99/max latency.

Ceilings: a raw etcd transaction loop with the same concurrency doing the write ScheduleJob does (a create-if-absent
transaction of a stored job record of the same size), from one Python asyncio client; and the same SDK client
through two Python gRPC processes that do nothing but relay (``bench.apps.grpc_hops``), the shape of the sidecar and
scheduler without their work. The jobs are due in 2100, so nothing fires while this runs.
"""

from __future__ import annotations

import sys
from typing import Any

from bench.deployment import BenchDeployment
from bench.loadgen.client import run_loadgen
from bench.report import Figure, at_least, at_most
from bench.scenario import ScenarioContext
from bench.scenarios.jobrun import APP_ID, FAR_FUTURE_NS, REGISTER_THREADS, sdk_register
from tests.support.processes import child_env, tcp_open
from tests.support.waiting import wait_until

MAX_TXN_OPS = 10_000
HOPS_NAME = "2 no-op Python gRPC hops (sidecar+scheduler shape)"


def measure_grpc_hops(ctx: ScenarioContext, stack: BenchDeployment, count: int) -> dict[str, Any]:
    """Ceiling: the same SDK client through a relay and a null scheduler (``bench.apps.grpc_hops``), no etcd."""
    upstream, front, http_port = stack.ports.take(), stack.ports.take(), stack.ports.take()
    hop = [sys.executable, "-m", "bench.apps.grpc_hops"]
    null = ctx.sup.start("hops-scheduler", [*hop, "--mode", "scheduler", "--port", str(upstream)], env=child_env())
    relay = ctx.sup.start("hops-sidecar", [*hop, "--mode", "sidecar", "--port", str(front), "--http-port",
                                           str(http_port), "--upstream", f"127.0.0.1:{upstream}"], env=child_env())
    wait_until(lambda: tcp_open("127.0.0.1", front) and tcp_open("127.0.0.1", upstream), 60, "gRPC hops",
               watch=[null, relay])
    result = run_loadgen(ctx.sup, "sdk-register", {"grpc_port": front, "http_port": http_port,
                                                   "threads": REGISTER_THREADS, "prefix": "n-", "count": count,
                                                   "due_start_ns": FAR_FUTURE_NS})
    relay.stop()
    null.stop()
    if result["failed"]:
        raise RuntimeError(f"gRPC hops ceiling: {result['failed']} calls failed, e.g. {result['errors'][:1]}")
    return result


def run(ctx: ScenarioContext) -> None:
    count = ctx.count(20_000, 2_000)
    ctx.result.size.update(jobs_per_api=count, concurrency=REGISTER_THREADS)
    stack = ctx.stack()
    stack.start_etcd()
    stack.start_scheduler(0, extra_args=["--etcd-max-txn-ops", str(MAX_TXN_OPS)])
    app = stack.start_job_app(["unused-:1"])
    sidecar = stack.start_sidecar(APP_ID, app.port, "grpc")
    ctx.watch_usage(stack)

    with ctx.profile("ceiling", stack) as ceiling_cpu:
        ceiling = run_loadgen(ctx.sup, "etcd-create", {"endpoint": stack.etcd_endpoint, "count": count,
                                                        "concurrency": REGISTER_THREADS, "key_prefix": "bench-ceiling"})
    with ctx.profile("sdk", stack) as sdk_cpu:
        sdk = sdk_register(ctx, sidecar, "g-", count, FAR_FUTURE_NS)
    with ctx.profile("http", stack):
        http: dict[str, Any] = run_loadgen(ctx.sup, "http-register",
                                           {"http_port": sidecar.http_port, "concurrency": REGISTER_THREADS,
                                            "prefix": "h-", "count": count, "due_start_ns": FAR_FUTURE_NS})
    hops = measure_grpc_hops(ctx, stack, count)
    if http["failed"]:
        ctx.note(f"HTTP: {http['failed']} of {count} failed, e.g. {http['errors'][:1]}")
    ctx.detail("ceiling_etcd_txn", ceiling)
    ctx.detail("ceiling_grpc_hops", hops)
    ctx.detail("sdk_grpc", sdk)
    ctx.detail("http", http)

    c_rate, c_lat = ceiling["rate_per_s"], ceiling["latency"]
    ceiling_name = f"raw etcd create txn, {REGISTER_THREADS} in flight"
    r = ctx.result
    r.add(Figure("SDK gRPC jobs/s", sdk["rate_per_s"], "1/s", c_rate, ceiling_name, **at_least(1500, ">= 1,500/s")))
    r.add(Figure("SDK gRPC jobs/s", sdk["rate_per_s"], "1/s", hops["rate_per_s"], HOPS_NAME))
    r.add(Figure("SDK gRPC p50", sdk["latency"]["p50_ms"], "ms", c_lat["p50_ms"], ceiling_name))
    r.add(Figure("SDK gRPC p99", sdk["latency"]["p99_ms"], "ms", c_lat["p99_ms"], ceiling_name,
                 **at_most(50, "<= 50 ms")))
    r.add(Figure("SDK gRPC max", sdk["latency"]["max_ms"], "ms", c_lat["max_ms"], ceiling_name))
    r.add(Figure("SDK gRPC p99", sdk["latency"]["p99_ms"], "ms", hops["latency"]["p99_ms"], HOPS_NAME))
    r.add(Figure("HTTP jobs/s", http["rate_per_s"], "1/s", c_rate, ceiling_name))
    r.add(Figure("HTTP p50", http["latency"]["p50_ms"], "ms", c_lat["p50_ms"], ceiling_name))
    r.add(Figure("HTTP p99", http["latency"]["p99_ms"], "ms", c_lat["p99_ms"], ceiling_name))
    r.add(Figure("HTTP max", http["latency"]["max_ms"], "ms", c_lat["max_ms"], ceiling_name))
    # Where the CPU goes per ScheduleJob (2 cores are shared by client, sidecar, scheduler and etcd).
    per_job = {name: 1000 * cpu_s / count for name, cpu_s in sdk_cpu.items()}
    r.add(Figure("etcd CPU per SDK job", per_job.get("etcd", 0.0), "ms", 1000 * ceiling_cpu.get("etcd", 0.0) / count,
                 "etcd CPU per raw txn"))
    r.add(Figure("scheduler CPU per SDK job", per_job.get("scheduler-0", 0.0), "ms"))
    r.add(Figure("sidecar CPU per SDK job", per_job.get("sidecar", 0.0), "ms"))

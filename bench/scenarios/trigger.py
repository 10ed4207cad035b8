"""Scenario 2, trigger: N one-shot jobs due at one instant, delivered to a `dapr.ext.grpc` app, end to end.

Figures: triggers/s as the app received them (N / (last receive - due)), and acked/s (N / (etcd empty - due)),
since a one-shot job is deleted only once its trigger is acked. Ceilings, measured in the same run:
(a) the same app process fed ``OnJobEventAlpha1`` directly at the sidecar's concurrency limit (1,000 calls in
flight), with the scheduler and sidecar stopped; (b) etcd doing the writes the scheduler does per trigger (the guarded
delete of job and counter), batched as the scheduler batches them; (c) the same app behind a scheduler and a sidecar
that only pass the gRPC messages a trigger costs (``bench.apps.trigger_hops``): what Python gRPC allows here.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from bench.apps.trigger_hops import STREAMS_CONNECTED
from bench.deployment import BenchDeployment
from bench.loadgen.client import run_loadgen
from bench.procstat import cpu_seconds
from bench.report import Figure, exactly, ratio_at_least
from bench.scenario import ScenarioContext
from bench.scenarios.jobrun import (
    APP_ID,
    calibrated_due,
    jobs_prefix,
    read_report,
    sdk_register,
    wait_for_deliveries,
)
from bench.stats import LatencySummary, rate_per_s
from tests.support.processes import child_env, tcp_open
from tests.support.waiting import wait_until

PREFIX = "t-"
MAX_TXN_OPS = 10_000
# The sidecar's limit on concurrent calls into its app (d576a02); the direct feed uses the same. Before that limit
# the scheduler's --max-inflight (10,000) was the only bound, and the SDK app answered ~20% of calls CANCELLED.
SIDECAR_APP_CONCURRENCY = 1_000


def deploy(ctx: ScenarioContext, count: int, replicas: int = 1, label: str = "") -> BenchDeployment:
    stack = ctx.stack(label)
    stack.start_etcd()
    for i in range(replicas):
        stack.start_scheduler(i, extra_args=["--etcd-max-txn-ops", str(MAX_TXN_OPS)])
    app = stack.start_job_app([f"{PREFIX}:{count}"])
    stack.start_sidecar(APP_ID, app.port, "grpc")
    stack.wait_streams()
    ctx.watch_usage(stack)
    return stack


def measure_end_to_end(ctx: ScenarioContext, stack: BenchDeployment, count: int) -> dict[str, Any]:
    """Schedule ``count`` jobs due at one instant and time their delivery; returns the raw figures."""
    app, sidecar = stack.apps[0], stack.sidecars[0]
    due_ns, _ = calibrated_due(ctx, sidecar, count)
    before = [s.triggered() for s in stack.schedulers]
    failed_before = sum(s.counter("dapr_scheduler_jobs_failed") for s in stack.schedulers)
    undelivered_before = sum(s.counter("dapr_scheduler_jobs_undelivered") for s in stack.schedulers)
    reg = sdk_register(ctx, sidecar, PREFIX, count, due_ns)
    registered_at = time.time_ns()
    if registered_at > due_ns:
        ctx.note(f"scheduling overran the due instant by {(registered_at - due_ns) / 1e9:.1f}s: "
                 "some triggers fired while jobs were still being scheduled")
    with ctx.profile(f"{stack.label}triggers", stack) as cpu:
        arrival = wait_for_deliveries(stack, app, count, jobs_prefix(PREFIX), timeout_s=max(120.0, count / 100),
                                      first_due_ns=due_ns)
    after = [s.triggered() for s in stack.schedulers]
    failed = sum(s.counter("dapr_scheduler_jobs_failed") for s in stack.schedulers) - failed_before
    undelivered = sum(s.counter("dapr_scheduler_jobs_undelivered") for s in stack.schedulers) - undelivered_before
    report = read_report(ctx, app)
    start = due_ns  # the clock starts at the due instant
    last_recv = max((d.recv_ns for d in report.deliveries), default=start)
    return {
        "count": count,
        "due_ns": due_ns,
        "register": reg,
        "received": arrival.received,
        "distinct": report.names,
        "duplicates": report.duplicates,
        "early": report.early,
        "timed_out": arrival.timed_out,
        "recv_rate_per_s": rate_per_s(report.names, last_recv - start),
        "acked_rate_per_s": rate_per_s(count, arrival.acked_at_ns - start) if arrival.acked_at_ns else 0.0,
        "acked_after_s": None if arrival.acked_at_ns is None else (arrival.acked_at_ns - start) / 1e9,
        "lateness": LatencySummary.of_ns(report.lateness_ns).as_dict(),
        "per_replica_triggered": [a - b for a, b in zip(after, before, strict=True)],
        # Triggers acked FAILED (retried by the default policy) and resolved undeliverable, per the schedulers
        "failed_acks": failed,
        "undelivered": undelivered,
        # CPU ms per trigger of each process, from the due instant's approach to the last ack
        "cpu_ms_per_trigger": {name: round(1000 * s / count, 4) for name, s in cpu.items()},
    }


def ceiling_app(ctx: ScenarioContext, stack: BenchDeployment, count: int, concurrency: int) -> dict[str, Any]:
    """Ceiling (a): scheduler(s) and sidecar stopped, the app reset and fed directly at ``concurrency``."""
    for proc in [*stack.sidecars, *stack.schedulers]:
        proc.stop()
    app = stack.apps[0]
    assert app.probe is not None
    app.probe.reset()
    result = run_loadgen(ctx.sup, "app-direct",
                         {"app_port": app.port, "count": count, "prefix": PREFIX, "concurrency": concurrency})
    result["app_received"] = app.probe.count()
    return result


def ceiling_plumbing(ctx: ScenarioContext, stack: BenchDeployment, count: int) -> dict[str, Any]:
    """Ceiling (c): the same app behind a scheduler and sidecar that do nothing but pass gRPC messages
    (``bench.apps.trigger_hops``); call with the real scheduler and sidecar stopped."""
    app = stack.apps[0]
    assert app.probe is not None
    app.probe.reset()
    port = stack.ports.take()
    hops = [sys.executable, "-m", "bench.apps.trigger_hops"]
    flood = ctx.sup.start("hops-scheduler", [*hops, "--mode", "scheduler", "--port", str(port), "--count",
                                             str(count), "--prefix", PREFIX, "--max-inflight", "10000"],
                          env=child_env())
    wait_until(lambda: tcp_open("127.0.0.1", port), 60, "trigger hops scheduler", watch=[flood])
    relay = ctx.sup.start("hops-sidecar", [*hops, "--mode", "sidecar", "--scheduler", f"127.0.0.1:{port}",
                                           "--app-port", str(app.port), "--max-inflight",
                                           str(SIDECAR_APP_CONCURRENCY)], env=child_env())
    wait_until(lambda: STREAMS_CONNECTED in flood.log_path.read_text(errors="replace"), 60,
               "trigger hops streams", watch=[flood, relay])
    base = {"relay": cpu_seconds(relay.pid), "flood": cpu_seconds(flood.pid)}
    arrival = wait_for_deliveries(stack, app, count, None, timeout_s=max(120.0, count / 100), stall_s=30)
    # The no-op sidecar's and scheduler's CPU per trigger (start-up excluded): the floor under the real ones'.
    cpu_ms = {"hops-sidecar": round(1000 * (cpu_seconds(relay.pid) - base["relay"]) / count, 4),
              "hops-scheduler": round(1000 * (cpu_seconds(flood.pid) - base["flood"]) / count, 4)}
    report = read_report(ctx, app, tag="-plumbing")
    relay.stop()
    flood.stop()
    start = min((d.due_ns for d in report.deliveries), default=0)
    last = max((d.recv_ns for d in report.deliveries), default=start)
    return {"received": arrival.received, "distinct": report.names, "timed_out": arrival.timed_out,
            "rate_per_s": rate_per_s(report.names, last - start), "cpu_ms_per_trigger": cpu_ms}


def ceiling_etcd(ctx: ScenarioContext, stack: BenchDeployment, count: int) -> dict[str, Any]:
    """Ceiling (b): the per-trigger etcd writes, in the scheduler's largest batches, one transaction in flight."""
    return run_loadgen(ctx.sup, "etcd-complete",
                       {"endpoint": stack.etcd_endpoint, "count": count, "concurrency": 1,
                        "batch": MAX_TXN_OPS // 2, "key_prefix": "bench-ceiling-b"})


def run(ctx: ScenarioContext) -> None:
    count = ctx.count(100_000, 5_000)
    ctx.result.size.update(jobs=count)
    stack = deploy(ctx, count)
    e2e = measure_end_to_end(ctx, stack, count)
    ctx.detail("end_to_end", e2e)
    for proc in [*stack.sidecars, *stack.schedulers]:
        proc.stop()
    c = ceiling_plumbing(ctx, stack, count)
    ctx.detail("ceiling_plumbing", c)
    same = min(count, SIDECAR_APP_CONCURRENCY)
    a = ceiling_app(ctx, stack, count, same)
    ctx.detail("ceiling_app_direct", a)
    b = ceiling_etcd(ctx, stack, count)
    ctx.detail("ceiling_etcd_writes", b)
    r = ctx.result
    r.add(Figure("triggers/s (app received)", e2e["recv_rate_per_s"], "1/s", a["rate_per_s"],
                 f"(a) app fed directly, {same} in flight", **ratio_at_least(0.6, ">= 0.6 x (a)")))
    if a["failed"]:
        ctx.note(f"ceiling (a): {a['failed']} of {count} direct calls failed at {same} in flight "
                 f"(e.g. {a['errors'][:1]}); the rate counts successes only")
    r.add(Figure("triggers/s (app received)", e2e["recv_rate_per_s"], "1/s", c["rate_per_s"],
                 "(c) same app behind no-op gRPC scheduler + sidecar"))
    r.add(Figure("triggers/s (acked, jobs gone)", e2e["acked_rate_per_s"], "1/s", b["rate_per_s"],
                 f"(b) etcd completion writes, batches of {MAX_TXN_OPS // 2}"))
    r.add(Figure("delivered", e2e["distinct"], "jobs", count, "scheduled", **ratio_at_least(1.0, "all")))
    r.add(Figure("duplicates", e2e["duplicates"], "deliveries", **exactly(0, "0")))
    r.add(Figure("early", e2e["early"], "deliveries", **exactly(0, "0")))
    r.add(Figure("triggers acked FAILED (retried)", e2e["failed_acks"], "triggers"))
    r.add(Figure("lateness p99 (last of burst)", e2e["lateness"]["p99_ms"], "ms"))
    r.add(Figure("scheduling rate during setup (SDK, 8 threads)", e2e["register"]["rate_per_s"], "1/s"))
    hop_cpu = c["cpu_ms_per_trigger"]
    floors = {"scheduler": hop_cpu["hops-scheduler"], "sidecar": hop_cpu["hops-sidecar"]}
    for name, ms in e2e["cpu_ms_per_trigger"].items():
        role = name.removeprefix(stack.label).split("-")[0]
        if role in floors:
            r.add(Figure(f"{name} CPU per trigger", ms, "ms", floors[role], f"no-op gRPC {role} in (c)"))
        elif role == "app":
            r.add(Figure(f"{name} CPU per trigger", ms, "ms"))

"""Scenario 3, lateness: N one-shot jobs spread evenly over a window (500 jobs/s), delivered minus due time.

Figures: p50/p99/max lateness as the app saw it, and how many arrived early (must be none). Floor, in the same
run: the same app fed each job directly at its due instant by an asyncio timer loop (no scheduler, no sidecar), which
is the lateness this machine adds to any timer-plus-gRPC delivery.
"""

from __future__ import annotations

import time

from bench.loadgen.client import run_loadgen
from bench.report import Figure, at_most, exactly, ratio_at_least
from bench.scenario import ScenarioContext
from bench.scenarios.jobrun import (
    APP_ID,
    DELIVERY_CONCURRENCY,
    calibrated_due,
    jobs_prefix,
    read_report,
    sdk_register,
    wait_for_deliveries,
)
from bench.stats import LatencySummary

PREFIX = "l-"
NS_PER_S = 1_000_000_000


def run(ctx: ScenarioContext) -> None:
    window_s = ctx.seconds(20.0, 5.0)
    count = ctx.count(10_000, 2_500)  # 500 jobs/s at both sizes
    spacing = int(window_s * NS_PER_S / count)
    ctx.result.size.update(jobs=count, window_s=window_s, jobs_per_s=round(count / window_s, 1))

    stack = ctx.stack()
    stack.start_etcd()
    stack.start_scheduler(0, extra_args=["--etcd-max-txn-ops", "10000"])
    app = stack.start_job_app([f"{PREFIX}:{count}"])
    sidecar = stack.start_sidecar(APP_ID, app.port, "grpc")
    stack.wait_streams()
    ctx.watch_usage(stack)

    due_ns, _ = calibrated_due(ctx, sidecar, count)
    reg = sdk_register(ctx, sidecar, PREFIX, count, due_ns, spacing_ns=spacing)
    if time.time_ns() > due_ns:
        ctx.note("scheduling overran the first due instant; early jobs may show extra lateness")
    with ctx.profile("deliveries", stack):
        arrival = wait_for_deliveries(stack, app, count, jobs_prefix(PREFIX), timeout_s=window_s + 120,
                                      first_due_ns=due_ns)
    report = read_report(ctx, app)
    e2e = LatencySummary.of_ns(report.lateness_ns)
    ctx.detail("end_to_end", {"register": reg, "lateness": e2e.as_dict(), "early": report.early,
                              "received": arrival.received, "distinct": report.names,
                              "duplicates": report.duplicates, "timed_out": arrival.timed_out})

    # Floor: same app, same plan, sent by a plain timer loop with the scheduler and sidecar stopped.
    for proc in (sidecar, *stack.schedulers):
        proc.stop()
    assert app.probe is not None
    app.probe.reset()
    floor_start = time.time_ns() + 2 * NS_PER_S
    feed = run_loadgen(ctx.sup, "app-timed", {"app_port": app.port, "count": count, "prefix": PREFIX,
                                              "due_start_ns": floor_start, "spacing_ns": spacing,
                                              "concurrency": DELIVERY_CONCURRENCY})
    floor_report = read_report(ctx, app, tag="-floor")
    floor = LatencySummary.of_ns(floor_report.lateness_ns)
    ctx.detail("floor_timer_feed", {"feed": feed, "lateness": floor.as_dict(), "early": floor_report.early})

    r = ctx.result
    r.add(Figure("lateness p50", e2e.p50_ms, "ms", floor.p50_ms, "timer loop feeding the app"))
    r.add(Figure("lateness p99", e2e.p99_ms, "ms", floor.p99_ms, "timer loop feeding the app",
                 **at_most(50, "<= 50 ms")))
    r.add(Figure("lateness max", e2e.max_ms, "ms", floor.max_ms, "timer loop feeding the app"))
    r.add(Figure("early deliveries", report.early, "jobs", **exactly(0, "0")))
    r.add(Figure("delivered", report.names, "jobs", count, "scheduled", **ratio_at_least(1.0, "all")))

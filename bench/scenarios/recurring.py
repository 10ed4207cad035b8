"""Scenario 4, recurring: N jobs ``@every 1s`` for a fixed number of ticks: triggers achieved vs expected, drift.

Each job is due first at ``D + i * (1 s / N)`` (phases spread evenly over the second, as jobs created at different
times would be) and repeats R times. "Achieved" counts deliveries received by one second after the last tick was
due; "drift" compares the median lateness of the last second of ticks with the first. Ceiling: the same plan fed
to the app by a timer loop with no scheduler in between.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from bench.deliveries import DeliveryReport
from bench.loadgen.client import run_loadgen
from bench.report import Figure, exactly, ratio_at_least
from bench.scenario import ScenarioContext
from bench.scenarios.jobrun import (
    APP_ID,
    DELIVERY_CONCURRENCY,
    calibrated_due,
    read_report,
    sdk_register,
    wait_for_deliveries,
)
from bench.stats import NS_PER_S, LatencySummary, bucketed_median_ms

PREFIX = "r-"
PERIOD_NS = NS_PER_S
GRACE_NS = NS_PER_S


@dataclass
class TickSummary:
    expected: int
    achieved_in_window: int
    delivered_total: int
    duplicates: int
    early: int
    lateness: LatencySummary
    median_lateness_ms_per_second: list[float]

    @property
    def drift_ms(self) -> float:
        per_s = self.median_lateness_ms_per_second
        return per_s[-1] - per_s[0] if len(per_s) >= 2 else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["lateness"] = self.lateness.as_dict()
        out["median_lateness_ms_per_second"] = [round(x, 2) for x in self.median_lateness_ms_per_second]
        out["drift_ms"] = round(self.drift_ms, 2)
        return out


def summarise(report: DeliveryReport, due_start: int, spacing: int, count: int, repeats: int) -> TickSummary:
    last_tick_due = due_start + (repeats - 1) * PERIOD_NS + (count - 1) * spacing
    return TickSummary(
        expected=count * repeats,
        achieved_in_window=sum(1 for d in report.deliveries if d.recv_ns <= last_tick_due + GRACE_NS),
        delivered_total=len(report.deliveries),
        duplicates=report.duplicates,
        early=report.early,
        lateness=LatencySummary.of_ns(report.lateness_ns),
        median_lateness_ms_per_second=bucketed_median_ms(
            [(d.due_ns, d.lateness_ns) for d in report.deliveries], due_start, PERIOD_NS),
    )


def run(ctx: ScenarioContext) -> None:
    count = ctx.count(5_000, 1_000)
    repeats = int(ctx.seconds(30, 10))
    spacing = PERIOD_NS // count
    expected = count * repeats
    ctx.result.size.update(jobs=count, repeats=repeats, schedule="@every 1s")

    stack = ctx.stack()
    stack.start_etcd()
    stack.start_scheduler(0, extra_args=["--etcd-max-txn-ops", "10000"])
    app = stack.start_job_app([f"{PREFIX}:{count}"])
    sidecar = stack.start_sidecar(APP_ID, app.port, "grpc")
    stack.wait_streams()
    ctx.watch_usage(stack)

    due_ns, _ = calibrated_due(ctx, sidecar, count)
    reg = sdk_register(ctx, sidecar, PREFIX, count, due_ns, spacing_ns=spacing, period_ns=PERIOD_NS,
                       schedule="@every 1s", repeats=repeats)
    if time.time_ns() > due_ns:
        ctx.note("scheduling overran the first due instant")
    with ctx.profile("ticks", stack):
        arrival = wait_for_deliveries(stack, app, expected, None, timeout_s=repeats + 60, stall_s=30,
                                      first_due_ns=due_ns)
    e2e = summarise(read_report(ctx, app, expected_per_name=repeats), due_ns, spacing, count, repeats)
    ctx.detail("end_to_end", {**e2e.as_dict(), "register": reg, "timed_out": arrival.timed_out})

    for proc in (sidecar, *stack.schedulers):
        proc.stop()
    assert app.probe is not None
    app.probe.reset()
    floor_start = time.time_ns() + 2 * NS_PER_S
    feed = run_loadgen(ctx.sup, "app-timed", {"app_port": app.port, "count": count, "prefix": PREFIX,
                                              "due_start_ns": floor_start, "spacing_ns": spacing,
                                              "period_ns": PERIOD_NS, "repeats": repeats,
                                              "concurrency": DELIVERY_CONCURRENCY})
    floor = summarise(read_report(ctx, app, expected_per_name=repeats, tag="-floor"), floor_start, spacing, count,
                      repeats)
    ctx.detail("ceiling_timer_feed", {**floor.as_dict(), "feed": feed})

    r = ctx.result
    feed_name = "timer loop feeding the app"
    r.add(Figure("triggers on time", e2e.achieved_in_window, "triggers", expected, "expected (jobs x ticks)",
                 **ratio_at_least(0.99, ">= 99% of expected")))
    r.add(Figure("triggers on time vs timer feed", e2e.achieved_in_window, "triggers", floor.achieved_in_window,
                 feed_name))
    r.add(Figure("lateness p99", e2e.lateness.p99_ms, "ms", floor.lateness.p99_ms, feed_name))
    r.add(Figure("drift (median, last s - first s)", e2e.drift_ms, "ms", floor.drift_ms, feed_name,
                 show_ratio=False))
    r.add(Figure("duplicates", e2e.duplicates, "deliveries", **exactly(0, "0")))
    r.add(Figure("early", e2e.early, "deliveries", **exactly(0, "0")))

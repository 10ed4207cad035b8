"""Scenario 4, recurring: N jobs ``@every 1s`` for a fixed number of ticks: triggers achieved vs expected, drift.

N is sized honestly: first the app alone is fed directly (as the trigger scenario's ceiling (a)), and the recurring
load is 70% of that rate, measured in the same run; the old fixed 5,000 jobs (1,000 quick) stay as a stress row,
which asks more than the app alone absorbs on a 2-core machine.

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
from bench.deployment import BenchDeployment
from bench.loadgen.client import run_loadgen
from bench.report import Figure, at_most, exactly, ratio_at_least
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

SIZED_PREFIX = "r-"
STRESS_PREFIX = "s-"
ALONE_PREFIX = "a-"
# The recurring load a deployment should carry comfortably: this share of what the app alone absorbs (same run).
SIZED_SHARE = 0.7
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


def measure_app_alone(ctx: ScenarioContext, app_port: int, count: int) -> float:
    """The app's own rate (ceiling (a) of the trigger scenario): ``count`` events fed directly, 1,000 in flight."""
    feed = run_loadgen(ctx.sup, "app-direct", {"app_port": app_port, "count": count, "prefix": ALONE_PREFIX,
                                               "concurrency": DELIVERY_CONCURRENCY})
    ctx.detail("app_alone", feed)
    return float(feed["rate_per_s"])


def run_phase(ctx: ScenarioContext, stack: BenchDeployment, prefix: str, count: int, repeats: int) -> TickSummary:
    """``count`` jobs ``@every 1s`` (phases spread over the second) for ``repeats`` ticks, end to end."""
    app, sidecar = stack.apps[0], stack.sidecars[0]
    assert app.probe is not None
    app.probe.reset()
    spacing = PERIOD_NS // count
    due_ns, _ = calibrated_due(ctx, sidecar, count, cal_prefix=f"cal-{prefix}")
    reg = sdk_register(ctx, sidecar, prefix, count, due_ns, spacing_ns=spacing, period_ns=PERIOD_NS,
                       schedule="@every 1s", repeats=repeats)
    if time.time_ns() > due_ns:
        ctx.note(f"{prefix}: scheduling overran the first due instant")
    with ctx.profile(f"ticks-{prefix}", stack):
        arrival = wait_for_deliveries(stack, app, count * repeats, None, timeout_s=repeats + 60, stall_s=30,
                                      first_due_ns=due_ns)
    summary = summarise(read_report(ctx, app, expected_per_name=repeats, tag=prefix), due_ns, spacing, count, repeats)
    ctx.detail(f"end_to_end_{prefix}", {**summary.as_dict(), "jobs": count, "register": reg,
                                        "timed_out": arrival.timed_out})
    return summary


def timer_feed(ctx: ScenarioContext, stack: BenchDeployment, count: int, repeats: int) -> TickSummary:
    """Ceiling: the stress plan fed to the app by a timer loop, scheduler and sidecar stopped."""
    for proc in (*stack.sidecars, *stack.schedulers):
        proc.stop()
    app = stack.apps[0]
    assert app.probe is not None
    app.probe.reset()
    spacing = PERIOD_NS // count
    floor_start = time.time_ns() + 2 * NS_PER_S
    feed = run_loadgen(ctx.sup, "app-timed", {"app_port": app.port, "count": count, "prefix": STRESS_PREFIX,
                                              "due_start_ns": floor_start, "spacing_ns": spacing,
                                              "period_ns": PERIOD_NS, "repeats": repeats,
                                              "concurrency": DELIVERY_CONCURRENCY})
    floor = summarise(read_report(ctx, app, expected_per_name=repeats, tag="-floor"), floor_start, spacing, count,
                      repeats)
    ctx.detail("ceiling_timer_feed", {**floor.as_dict(), "feed": feed})
    return floor


def run(ctx: ScenarioContext) -> None:
    stress = ctx.count(5_000, 1_000)
    alone_count = ctx.count(20_000, 5_000)
    repeats = int(ctx.seconds(30, 10))
    stack = ctx.stack()
    stack.start_etcd()
    stack.start_scheduler(0, extra_args=["--etcd-max-txn-ops", "10000"])
    # Handlers for as many sized jobs as the app could possibly absorb (sized <= 70% of its rate <= alone_count).
    app = stack.start_job_app([f"{SIZED_PREFIX}:{alone_count}", f"{STRESS_PREFIX}:{stress}",
                               f"{ALONE_PREFIX}:{alone_count}"])
    stack.start_sidecar(APP_ID, app.port, "grpc")
    stack.wait_streams()
    ctx.watch_usage(stack)

    alone = measure_app_alone(ctx, app.port, alone_count)
    sized = max(1, min(alone_count, int(SIZED_SHARE * alone)))
    ctx.result.size.update(sized_jobs=sized, stress_jobs=stress, repeats=repeats, schedule="@every 1s",
                           app_alone_per_s=round(alone))
    honest = run_phase(ctx, stack, SIZED_PREFIX, sized, repeats)
    loaded = run_phase(ctx, stack, STRESS_PREFIX, stress, repeats)
    floor = timer_feed(ctx, stack, stress, repeats)

    r = ctx.result
    share = f"{SIZED_PREFIX!r}: {sized} jobs = {SIZED_SHARE:.0%} of the app alone ({alone:,.0f}/s)"
    r.add(Figure(f"on time at 70% of app alone ({sized} jobs)", honest.achieved_in_window, "triggers",
                 honest.expected, "expected (jobs x ticks)", **ratio_at_least(0.99, ">= 99% of expected")))
    r.add(Figure("lateness p99 at 70% of app alone", honest.lateness.p99_ms, "ms", **at_most(1000, "<= 1 s")))
    r.add(Figure("delivered at 70% (any time)", honest.delivered_total, "triggers", honest.expected, "expected",
                 **ratio_at_least(1.0, "all")))
    r.add(Figure("duplicates at 70%", honest.duplicates, "deliveries", **exactly(0, "0")))
    r.add(Figure("early at 70%", honest.early, "deliveries", **exactly(0, "0")))
    ctx.note(share)
    feed_name = "timer loop feeding the app"
    r.add(Figure(f"stress: on time, {stress} jobs", loaded.achieved_in_window, "triggers", loaded.expected,
                 "expected (jobs x ticks)"))
    r.add(Figure("stress: on time vs timer feed", loaded.achieved_in_window, "triggers", floor.achieved_in_window,
                 feed_name))
    r.add(Figure("stress: lateness p99", loaded.lateness.p99_ms, "ms", floor.lateness.p99_ms, feed_name))
    r.add(Figure("stress: drift (median, last s - first s)", loaded.drift_ms, "ms", floor.drift_ms, feed_name,
                 show_ratio=False))
    r.add(Figure("stress: duplicates", loaded.duplicates, "deliveries", **exactly(0, "0")))
    r.add(Figure("stress: early", loaded.early, "deliveries", **exactly(0, "0")))

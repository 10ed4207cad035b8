"""Scenario 6, replicas: the trigger scenario with 1 and with 3 scheduler replicas on one etcd.

Figures: throughput with 3 replicas against 1 (same job count, same machine, back to back), each replica's share
of the triggers (from its own ``dapr_scheduler_jobs_triggered`` counter) against an equal share, and duplicate
deliveries seen by the app. On a 2-core machine three replicas compete for the same cores as the sidecar, app and
etcd, so the ratio says what partitioning costs or gains here, not what three machines would do.
"""

from __future__ import annotations

from typing import Any

from bench.report import Figure, at_most, exactly, ratio_at_least
from bench.scenario import ScenarioContext
from bench.scenarios.trigger import deploy, measure_end_to_end


def run(ctx: ScenarioContext) -> None:
    count = ctx.count(50_000, 3_000)
    ctx.result.size.update(jobs=count, replicas=[1, 3])
    runs: dict[int, dict[str, Any]] = {}
    for replicas in (1, 3):
        stack = deploy(ctx, count, replicas=replicas, label=f"r{replicas}-")
        stack.wait_streams(per_scheduler=1)
        runs[replicas] = measure_end_to_end(ctx, stack, count)
        stack.stop_all()
    ctx.detail("runs", {str(k): v for k, v in runs.items()})

    three = runs[3]
    shares = [t / max(1.0, sum(three["per_replica_triggered"])) for t in three["per_replica_triggered"]]
    worst = max(abs(s * 3 - 1) for s in shares) if shares else float("nan")
    ctx.detail("shares", shares)
    r = ctx.result
    r.add(Figure("triggers/s, 3 replicas", three["recv_rate_per_s"], "1/s", runs[1]["recv_rate_per_s"],
                 "same run with 1 replica"))
    r.add(Figure("worst replica share off equal", worst * 100, "%", **at_most(10, "<= 10%")))
    r.add(Figure("delivered, 3 replicas", three["distinct"], "jobs", count, "scheduled",
                 **ratio_at_least(1.0, "all")))
    r.add(Figure("duplicates, 3 replicas", three["duplicates"], "deliveries", **exactly(0, "0")))
    r.add(Figure("duplicates, 1 replica", runs[1]["duplicates"], "deliveries", **exactly(0, "0")))
    for i, share in enumerate(shares):
        r.add(Figure(f"replica {i} share", share * 100, "%", 100 / 3, "equal share"))

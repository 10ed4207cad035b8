"""Scenario 8, peer: what a Python user would otherwise pick, APScheduler 3.x with its SQLAlchemy job store on
SQLite, running the trigger scenario's N one-shot jobs (all due at one instant) to an in-process function, timed
the same way (jobs run per second from the due instant to the last run).

The daprjobs side is the trigger scenario's figure when it ran earlier in this invocation with the same N, else it is
measured here.
"""

from __future__ import annotations

from typing import Any

from bench.loadgen.client import run_loadgen
from bench.report import Figure, exactly
from bench.scenario import ScenarioContext
from bench.scenarios.trigger import deploy, measure_end_to_end

DIFFERENCES = (
    "APScheduler runs each job as a function call inside the process that holds the scheduler, with one SQLite "
    "file as its store: no network hop and no delivery to another process; a job is deleted from the store as soon "
    "as it is handed to the thread pool, before it runs, so a crash then loses it (at most once); and two processes "
    "on one job store would both run every job, so there are no replicas. daprjobs delivers each trigger over gRPC "
    "through a sidecar to a separate app process, deletes a one-shot job only once the app acked it (at least "
    "once), and splits jobs across scheduler replicas on etcd."
)


def daprjobs_side(ctx: ScenarioContext, count: int) -> dict[str, Any]:
    earlier = ctx.earlier.get("trigger")
    if earlier is not None and not earlier.error and earlier.size.get("jobs") == count:
        e2e: dict[str, Any] = earlier.details["end_to_end"]
        return {**e2e, "source": "trigger scenario of this run"}
    stack = deploy(ctx, count, label="dj-")
    e2e = measure_end_to_end(ctx, stack, count)
    stack.stop_all()
    return {**e2e, "source": "measured by this scenario"}


def run(ctx: ScenarioContext) -> None:
    count = ctx.count(100_000, 3_000)
    ctx.result.size.update(jobs=count)
    dj = daprjobs_side(ctx, count)
    ctx.detail("daprjobs", dj)
    aps = run_loadgen(ctx.sup, "apscheduler", {"count": count, "db_path": str(ctx.workdir / "apscheduler.sqlite")},
                      timeout=7200)
    ctx.detail("apscheduler", aps)
    if not aps["added_before_due"]:
        ctx.note("APScheduler: adding the jobs overran the due instant; its rate includes time spent adding")
    ctx.note(DIFFERENCES)
    r = ctx.result
    r.add(Figure("daprjobs triggers/s vs APScheduler runs/s", dj["recv_rate_per_s"], "1/s", aps["rate_per_s"],
                 "APScheduler 3 + SQLite, in-process"))
    r.add(Figure("daprjobs schedule/s vs APScheduler add/s", dj["register"]["rate_per_s"], "1/s",
                 aps["add"]["rate_per_s"], "APScheduler add_job"))
    r.add(Figure("APScheduler jobs run", aps["ran"], "jobs", count, "added"))
    r.add(Figure("APScheduler early runs", aps["early"], "jobs", **exactly(0, "0")))

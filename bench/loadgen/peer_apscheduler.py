"""The peer: APScheduler 3.x with its SQLAlchemy job store on SQLite, running one-shot jobs to an in-process function.

Timed the way the trigger scenario times daprjobs: every job is due at one instant D, chosen (after a calibration of
how fast jobs can be added) so that adding them all ends before D; the figure is jobs run per second from D to the
last run. The function only records when it ran, like the bench app's handler.
"""

from __future__ import annotations

import pathlib
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.loadgen.timing import OpTimings
from bench.stats import LatencySummary, rate_per_s

_runs: list[int] = []
_done = threading.Event()
_expected = 0


def hit(i: int) -> None:
    """The job body: note the time (the job store holds a reference to this function by its import path)."""
    _runs.append(time.time_ns())
    if len(_runs) >= _expected:
        _done.set()


def _when(t_ns: int) -> datetime:
    return datetime.fromtimestamp(t_ns / 1e9, UTC)


def run(args: dict[str, Any]) -> dict[str, Any]:
    global _expected
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    count = int(args["count"])
    workers = int(args.get("workers", 10))
    db = pathlib.Path(args["db_path"])
    db.unlink(missing_ok=True)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{db}")},
        executors={"default": ThreadPoolExecutor(workers)},
        # Late is fine, skipped is not: the comparison is about running every job.
        job_defaults={"misfire_grace_time": None, "coalesce": False, "max_instances": 1},
        timezone=UTC,
    )
    scheduler.start()
    try:
        # Calibrate: how fast do adds go? (throwaway jobs far in the future)
        far = _when(time.time_ns()) + timedelta(days=1)
        calibration = min(300, max(20, count // 20))
        t0 = time.perf_counter_ns()
        for i in range(calibration):
            scheduler.add_job(hit, "date", run_date=far, args=[i], id=f"cal-{i}")
        cal_rate = rate_per_s(calibration, time.perf_counter_ns() - t0)
        for i in range(calibration):
            scheduler.remove_job(f"cal-{i}")

        due_ns = time.time_ns() + int((count / cal_rate * 1.3 + 3) * 1e9)
        _expected = count
        add = OpTimings()
        start = time.perf_counter_ns()
        for i in range(count):
            t = time.perf_counter_ns()
            scheduler.add_job(hit, "date", run_date=_when(due_ns), args=[i], id=f"j-{i}")
            add.latencies_ns.append(time.perf_counter_ns() - t)
        add.ops, add.elapsed_ns = count, time.perf_counter_ns() - start
        added_by_ns = time.time_ns()
        timeout_s = float(args.get("timeout_s", 600))
        _done.wait(max(0.0, (due_ns - time.time_ns()) / 1e9) + timeout_s)
        runs = sorted(_runs)
    finally:
        scheduler.shutdown(wait=False)
    last = runs[-1] if runs else due_ns
    return {
        "count": count,
        "ran": len(runs),
        "due_ns": due_ns,
        "added_before_due": added_by_ns <= due_ns,
        "elapsed_ns": last - due_ns,
        "rate_per_s": rate_per_s(len(runs), last - due_ns),
        "lateness": LatencySummary.of_ns([r - due_ns for r in runs]).as_dict(),
        "early": sum(1 for r in runs if r < due_ns),
        "add": add.as_result(),
        "workers": workers,
    }

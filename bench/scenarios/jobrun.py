"""One job run against a full deployment: schedule jobs through the SDK, wait for the app to get them, read back.

Shared by the trigger, lateness, recurring, replicas and peer scenarios. The due instant of a batch of jobs must
fall after the last of them is scheduled, but how fast scheduling goes depends on the machine's load, so it is
calibrated first with a few throwaway jobs due far in the future.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from bench.app_probe import DeliveryProbe
from bench.deliveries import DeliveryReport, analyse
from bench.deployment import NAMESPACE, BenchDeployment
from bench.etcd_direct import EtcdDirect
from bench.loadgen.client import run_loadgen
from bench.scenario import ScenarioContext
from bench.stored import app_job_name
from tests.support.daprjobs_processes import SidecarProcess
from tests.support.deployment import KEY_PREFIX, AppHandle

log = logging.getLogger(__name__)

NS_PER_S = 1_000_000_000
FAR_FUTURE_NS = 4_102_444_800 * NS_PER_S  # 2100-01-01
APP_ID = "bench"
# How often the harness asks the app and etcd for progress while triggers arrive: rarely enough to cost them
# nothing measurable, often enough that "all acked" is timed to within 0.1 s.
POLL_S = 0.1
REGISTER_THREADS = 8
# Calls a timer-loop feed may keep in flight to the app. The sidecar does not bound its own, so the feed should
# not be held back either; 1,000 is where a direct feed of the SDK app peaked on this machine.
DELIVERY_CONCURRENCY = 1_000


def jobs_prefix(name_prefix: str, app_id: str = APP_ID) -> bytes:
    """The etcd key prefix of this app's jobs named ``name_prefix...``."""
    return f"{KEY_PREFIX}/jobs/{app_job_name(NAMESPACE, app_id, name_prefix)}".encode()


def count_jobs(endpoint: str, prefix: bytes) -> int:
    async def go() -> int:
        async with EtcdDirect(endpoint) as etcd:
            return await etcd.count_prefix(prefix)

    return asyncio.run(go())


def sdk_register(ctx: ScenarioContext, sidecar: SidecarProcess, prefix: str, count: int, due_start_ns: int,
                 spacing_ns: int = 0, period_ns: int = 0, schedule: str | None = None,
                 repeats: int | None = None, threads: int = REGISTER_THREADS) -> dict[str, Any]:
    args: dict[str, Any] = {"grpc_port": sidecar.grpc_port, "http_port": sidecar.http_port, "threads": threads,
                            "prefix": prefix, "count": count, "due_start_ns": due_start_ns,
                            "spacing_ns": spacing_ns, "period_ns": period_ns, "schedule": schedule,
                            "repeats": repeats}
    result = run_loadgen(ctx.sup, "sdk-register", args, timeout=3600)
    if result["failed"]:
        raise RuntimeError(f"{result['failed']} of {count} ScheduleJob calls failed, e.g. {result['errors'][:2]}")
    return result


def calibrated_due(ctx: ScenarioContext, sidecar: SidecarProcess, count: int, margin: float = 1.25,
                   extra_s: float = 3.0, cal_prefix: str = "cal-") -> tuple[int, float]:
    """A due instant by which ``count`` jobs will surely be scheduled; returns (due ns, measured jobs/s).

    The calibration jobs (``cal_prefix*``, one prefix per calibration in a deployment) are due in 2100 and stay
    stored, idle, for the rest of the scenario.
    """
    calibration = min(1000, max(50, count // 10))
    result = sdk_register(ctx, sidecar, cal_prefix, calibration, FAR_FUTURE_NS)
    rate = max(50.0, float(result["rate_per_s"]))
    due = time.time_ns() + int((count / rate * margin + extra_s) * NS_PER_S)
    ctx.detail("calibration", {"jobs": calibration, "rate_per_s": round(rate, 1)})
    return due, rate


@dataclass
class Arrival:
    """When the app got the last expected delivery, and when etcd no longer held the jobs (all acked)."""

    received: int
    last_recv_ns: int
    acked_at_ns: int | None
    timed_out: bool


def wait_for_deliveries(stack: BenchDeployment, app: AppHandle[DeliveryProbe], expected: int, prefix: bytes | None,
                        timeout_s: float, stall_s: float = 60.0, first_due_ns: int = 0) -> Arrival:
    """Poll the app (and etcd, for one-shot jobs, which are deleted once acked) until all ``expected`` deliveries
    arrived; gives up ``timeout_s`` after the first due instant, or when nothing moved for ``stall_s`` after it."""
    assert app.probe is not None
    until_due_s = max(0.0, (first_due_ns - time.time_ns()) / NS_PER_S)
    deadline = time.monotonic() + until_due_s + timeout_s
    last_progress, last_count = time.monotonic() + until_due_s, -1
    acked_at: int | None = None
    stats = app.probe.stats()
    watch = [p for p in stack.sup.processes if p.alive and not p.name.startswith("loadgen")]
    while True:
        stats = app.probe.stats()
        count = int(stats["count"])
        # Counting keys costs etcd O(keys): only once the app has everything, when the acks are what is left.
        if prefix is not None and acked_at is None and count >= expected and count_jobs(stack.etcd_endpoint,
                                                                                         prefix) == 0:
            acked_at = time.time_ns()
        if count >= expected and (prefix is None or acked_at is not None):
            return Arrival(count, int(stats["last_recv_ns"]), acked_at, False)
        if count != last_count:
            last_count, last_progress = count, max(last_progress, time.monotonic())
        now = time.monotonic()
        if now >= deadline or now - last_progress >= stall_s:
            log.warning("deliveries stopped at %d of %d", count, expected)
            return Arrival(count, int(stats["last_recv_ns"]), acked_at, True)
        for proc in watch:
            if not proc.alive:
                raise RuntimeError(f"{proc.name} exited ({proc.returncode}) during the run; log {proc.log_path}:\n"
                                   f"{proc.log_tail()}")
        time.sleep(POLL_S)


def read_report(ctx: ScenarioContext, app: AppHandle[DeliveryProbe], expected_per_name: int = 1,
                tag: str = "") -> DeliveryReport:
    assert app.probe is not None
    records = app.probe.dump(ctx.workdir / f"deliveries{tag}.tsv")
    return analyse(records, expected_per_name)

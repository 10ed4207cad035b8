"""Scenario 5, scale: a million stored jobs due far in the future: scheduler memory, etcd size, restart time.

Loading a million jobs through ScheduleJob would take longer than everything else in the bench, so they are
written straight into etcd in the scheduler's stored format (``bench.stored``: the records a ScheduleJob writes),
in batched transactions, while the scheduler is stopped. Then the scheduler starts on them (cold start), and is
restarted once more. Figures: RSS and bytes per job (RSS growth over an empty scheduler / N), etcd's db size, time
from start to healthz-ready and to every job loaded (the scheduler's owned-jobs gauge), and the time for a job
scheduled right after the restart to be delivered. Ceilings: the stored record size per job (for bytes per job) and
one client reading all N records from etcd in pages (for the load time).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

from bench.deployment import NAMESPACE, BenchDeployment
from bench.duedata import DueData
from bench.etcd_direct import EtcdDirect
from bench.procstat import peak_rss_bytes, rss_bytes
from bench.profiling import record_for
from bench.report import Figure, at_most, exactly
from bench.scenario import ScenarioContext
from bench.scenarios.jobrun import APP_ID, sdk_register, wait_for_deliveries
from bench.stats import NS_PER_S
from bench.stored import app_job_name, job_key, stored_app_job
from tests.support.daprjobs_processes import SchedulerProcess
from tests.support.deployment import KEY_PREFIX
from tests.support.waiting import wait_until

PREFIX = "s-"
SCAN_PAGE = 10_000
_SYNCED = re.compile(r"job index synced jobs=(\d+)")
MIB = 2**20


def records(count: int, first_due_ns: int) -> Iterator[tuple[bytes, bytes]]:
    for i in range(count):
        due = first_due_ns + i * 10_000_000  # 10 ms apart, from a year ahead
        composed = app_job_name(NAMESPACE, APP_ID, f"{PREFIX}{i}")
        yield job_key(KEY_PREFIX, composed), stored_app_job(NAMESPACE, APP_ID, due, DueData(due).encode())


async def load(endpoint: str, count: int) -> tuple[float, int, int]:
    """Write the jobs; returns (seconds, db size, db size in use)."""
    async with EtcdDirect(endpoint) as etcd:
        t0 = time.monotonic()
        await etcd.put_all(records(count, time.time_ns() + 365 * 86400 * NS_PER_S), batch=1000, concurrency=4)
        took = time.monotonic() - t0
        size, in_use = await etcd.status()
    return took, size, in_use


async def scan(endpoint: str) -> tuple[int, int, int]:
    """The load-time ceiling: every job read by one client in key order, 10,000 per page. (Pages of 1,000 take
    about 6x as long on a million keys: etcd 3.5 counts the rest of the range on every page.)"""
    async with EtcdDirect(endpoint) as etcd:
        return await etcd.scan_prefix(f"{KEY_PREFIX}/jobs/".encode(), page=SCAN_PAGE)


def settled_rss(handle: SchedulerProcess, settle_s: float = 2.0) -> int:
    time.sleep(settle_s)
    return rss_bytes(handle.pid)


def start_and_time(ctx: ScenarioContext, stack: BenchDeployment, ports: tuple[int, int, int], expect_owned: int,
                   timeout_s: float, label: str) -> tuple[SchedulerProcess, float, float]:
    """Start replica 0 on ``ports``; returns (handle, seconds to healthz ready, seconds to all jobs owned)."""
    log_path = stack.sup.log_dir / "scheduler-0.log"
    log_offset = log_path.stat().st_size if log_path.exists() else 0
    t0 = time.monotonic()
    handle = stack.start_scheduler(0, wait=False, ports=ports, extra_args=["--etcd-max-txn-ops", "10000"])
    ctx.sampler.watch(label, handle.pid)
    wait_until(handle.ready, timeout_s, "scheduler healthz", interval=0.05, watch=[handle])
    ready_s = time.monotonic() - t0

    def loaded() -> bool:
        # The owned-jobs gauge is the direct signal; the informer's "job index synced jobs=N" log line is the
        # fallback, because the gauge is only refreshed when ownership changes (reported to the scheduler owner).
        try:
            if handle.owned_jobs() >= expect_owned:
                return True
        except OSError:
            pass
        with open(log_path, "rb") as f:
            f.seek(log_offset)
            synced = [int(m) for m in _SYNCED.findall(f.read().decode(errors="replace"))]
        return bool(synced) and max(synced) >= expect_owned

    wait_until(loaded, timeout_s, f"scheduler owning {expect_owned} jobs", interval=0.1, watch=[handle])
    return handle, ready_s, time.monotonic() - t0


@dataclass(frozen=True)
class StoredJobs:
    """The jobs as etcd holds them: how long writing them took, the db size, and the one-client read ceiling."""

    load_s: float
    db_size: int
    db_in_use: int
    scanned: int
    scan_ns: int
    stored_per_job: float  # raw key + value bytes


@dataclass(frozen=True)
class SchedulerRuns:
    """RSS (bytes) and start/stop times (seconds) over the cold start and the restart."""

    baseline_rss: int
    cold_rss: int
    restart_rss: int
    restart_peak_rss: int
    cold_ready_s: float
    cold_loaded_s: float
    restart_ready_s: float
    restart_loaded_s: float
    stop_s: float

    @property
    def loaded_rss(self) -> int:
        return max(self.cold_rss, self.restart_rss)


def measure_baseline(ctx: ScenarioContext, stack: BenchDeployment, ports: tuple[int, int, int]) -> int:
    """An empty scheduler's memory: the baseline for bytes per job."""
    empty, _, _ = start_and_time(ctx, stack, ports, 0, 60, "scheduler-empty")
    baseline = settled_rss(empty)
    stack.stop_scheduler(empty)
    return baseline


def store_jobs(ctx: ScenarioContext, endpoint: str, count: int) -> StoredJobs:
    load_s, db_size, db_in_use = asyncio.run(load(endpoint, count))
    ctx.note(f"{count:,} jobs written straight into etcd in the scheduler's stored format ({load_s:.1f}s); "
             "ScheduleJob through the API would take far longer than the measurement")
    scanned, value_bytes, scan_ns = asyncio.run(scan(endpoint))
    key_bytes = len(job_key(KEY_PREFIX, app_job_name(NAMESPACE, APP_ID, f"{PREFIX}{count // 2}")))
    return StoredJobs(load_s, db_size, db_in_use, scanned, scan_ns, value_bytes / max(1, scanned) + key_bytes)


def report_not_ready(ctx: ScenarioContext, stack: BenchDeployment, count: int, timeout: float,
                     stored: StoredJobs) -> None:
    """A cold start that missed its timeout is a result: say how far it got, and profile what it is doing."""
    stuck = stack.schedulers[-1]
    rss = rss_bytes(stuck.pid)
    profile = record_for(stuck.pid, 15, ctx.workdir / "profiles" / "not-ready" / "scheduler.txt")
    ctx.detail("profiles", {"start (not ready)": {"scheduler": profile}} if profile else {})
    ctx.note(f"the scheduler was not ready {timeout:.0f}s after starting on {count:,} jobs; "
             f"RSS then {rss / MIB:.0f} MiB; a 15 s py-spy profile of it is in details.profiles")
    ctx.result.add(Figure("cold start to all jobs loaded (not reached)", timeout, "s", stored.scan_ns / 1e9,
                          f"one client reading all jobs ({SCAN_PAGE:,}/page)", **at_most(60, "<= 60 s")))
    ctx.result.add(Figure("scheduler RSS while loading", rss / MIB, "MiB", **at_most(1024, "<= 1 GiB")))


def stop_timed(stack: BenchDeployment, handle: SchedulerProcess) -> float:
    t_stop = time.monotonic()
    stack.stop_scheduler(handle)
    return time.monotonic() - t_stop


def probe_after_restart(ctx: ScenarioContext, stack: BenchDeployment) -> tuple[float, bool]:
    """Does it trigger? One job scheduled through the SDK right after the restart, due one second later; returns
    (lateness in ms, NaN if it never came; whether it was delivered)."""
    app = stack.start_job_app(["p-:1"], label="probe-app")
    sidecar = stack.start_sidecar(APP_ID, app.port, "grpc")
    stack.wait_streams()
    due = time.time_ns() + NS_PER_S
    sdk_register(ctx, sidecar, "p-", 1, due, threads=1)
    arrival = wait_for_deliveries(stack, app, 1, None, timeout_s=60, first_due_ns=due)
    probe_late_ms = (arrival.last_recv_ns - due) / 1e6 if not arrival.timed_out else float("nan")
    return probe_late_ms, not arrival.timed_out


def report_details(ctx: ScenarioContext, stored: StoredJobs, runs: SchedulerRuns, probe_late_ms: float) -> None:
    ctx.detail("memory", {"baseline_rss_mib": runs.baseline_rss / MIB, "cold_rss_mib": runs.cold_rss / MIB,
                          "restart_rss_mib": runs.restart_rss / MIB,
                          "restart_peak_rss_mib": runs.restart_peak_rss / MIB})
    ctx.detail("etcd", {"db_size_mib": stored.db_size / MIB, "db_in_use_mib": stored.db_in_use / MIB,
                        "load_s": stored.load_s, "scan_s": stored.scan_ns / 1e9,
                        "stored_bytes_per_job": stored.stored_per_job, "scanned": stored.scanned})
    ctx.detail("start", {"cold_ready_s": runs.cold_ready_s, "cold_loaded_s": runs.cold_loaded_s,
                         "restart_ready_s": runs.restart_ready_s, "restart_loaded_s": runs.restart_loaded_s,
                         "probe_lateness_ms": probe_late_ms, "stop_s": runs.stop_s})


def report_figures(ctx: ScenarioContext, count: int, stored: StoredJobs, runs: SchedulerRuns, probe_late_ms: float,
                   delivered: bool) -> None:
    r = ctx.result
    scan_s = stored.scan_ns / 1e9
    per_job = (runs.loaded_rss - runs.baseline_rss) / count
    r.add(Figure("scheduler RSS", runs.loaded_rss / MIB, "MiB", **at_most(1024, "<= 1 GiB")))
    r.add(Figure("scheduler bytes per job", per_job, "B", stored.stored_per_job, "stored record (key + value)"))
    scan_name = f"one client reading all jobs ({SCAN_PAGE:,}/page)"
    r.add(Figure("restart to healthz ready", runs.restart_ready_s, "s", scan_s, scan_name))
    r.add(Figure("restart to all jobs loaded", runs.restart_loaded_s, "s", scan_s, scan_name,
                 **at_most(60, "<= 60 s")))
    r.add(Figure("cold start to all jobs loaded", runs.cold_loaded_s, "s", scan_s, scan_name))
    r.add(Figure("SIGTERM to exit, loaded scheduler", runs.stop_s, "s"))
    r.add(Figure("probe job after restart: lateness", probe_late_ms, "ms"))
    r.add(Figure("probe job delivered", 1 if delivered else 0, "jobs", **exactly(1, "1")))


def run(ctx: ScenarioContext) -> None:
    count = ctx.count(1_000_000, 20_000)
    ctx.result.size.update(jobs=count)
    stack = ctx.stack()
    stack.start_etcd()
    ctx.watch_usage(stack)  # etcd; each scheduler start is watched under its own label
    ports = (stack.ports.take(), stack.ports.take(), stack.ports.take())

    baseline = measure_baseline(ctx, stack, ports)
    stored = store_jobs(ctx, stack.etcd_endpoint, count)
    timeout = ctx.seconds(300.0, 120.0)
    ctx.result.add(Figure("etcd db size", stored.db_size / MIB, "MiB", count * stored.stored_per_job / MIB,
                          "raw key + value bytes"))
    try:
        cold, cold_ready, cold_loaded = start_and_time(ctx, stack, ports, count, timeout, "scheduler-cold")
    except TimeoutError:
        report_not_ready(ctx, stack, count, timeout, stored)
        return
    cold_rss = settled_rss(cold)
    stop_s = stop_timed(stack, cold)

    warm, warm_ready, warm_loaded = start_and_time(ctx, stack, ports, count, timeout, "scheduler-restart")
    warm_rss = settled_rss(warm)
    runs = SchedulerRuns(baseline, cold_rss, warm_rss, peak_rss_bytes(warm.pid), cold_ready, cold_loaded,
                         warm_ready, warm_loaded, stop_s)
    probe_late_ms, delivered = probe_after_restart(ctx, stack)

    report_details(ctx, stored, runs, probe_late_ms)
    report_figures(ctx, count, stored, runs, probe_late_ms, delivered)

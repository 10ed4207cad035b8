"""Scenario 7, reminders: actor reminders registered over HTTP, and reminder triggers to a FastAPI ``DaprActor`` app.

Registration: one-shot reminders (due in 2100) on distinct actor ids, 24 requests in flight (Dapr's published run,
667/s at p50 36 ms, implies about 24 in flight by Little's law): reminders/s, p50/p99. Ceilings: raw etcd doing the
same create transactions at the same concurrency, and Dapr's published figures (v1.17 perf report, Kubernetes).
Triggers: N one-shot reminders due at one instant, fired through the sidecar into the app: triggers/s from the due
instant to the last one received. Ceiling: the app called directly as a sidecar calls it, at the sidecar's limit on
concurrent app calls (1,000) and at 24.
"""

from __future__ import annotations

import time
import urllib.request
from typing import Any

from bench.app_probe import DeliveryProbe
from bench.deliveries import DeliveryReport, analyse
from bench.deployment import BenchDeployment
from bench.loadgen.client import run_loadgen
from bench.report import Figure, exactly, ratio_at_least
from bench.scenario import ScenarioContext
from bench.scenarios.jobrun import FAR_FUTURE_NS, wait_for_deliveries
from bench.stats import NS_PER_S, LatencySummary, rate_per_s
from tests.support.daprjobs_processes import SidecarProcess
from tests.support.deployment import AppHandle
from tests.support.resources import write_actor_state_store
from tests.support.waiting import wait_until

ACTOR_TYPE = "BenchActor"
APP_ID = "bench-actors"
CONCURRENCY = 24
SIDECAR_APP_CONNECTIONS = 1_000  # the sidecar's limit on concurrent HTTP calls to its app
DAPR_REGISTER_QPS, DAPR_REGISTER_P50_MS, DAPR_REGISTER_P99_MS = 667.0, 35.99, 74.47
DAPR_TRIGGER_QPS = 15_463.0


def actor_type_hosted(http_port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/v1.0/metadata", timeout=2) as resp:
            return ACTOR_TYPE in resp.read().decode()
    except OSError:
        return False


def start_actor_stack(ctx: ScenarioContext) -> tuple[BenchDeployment, AppHandle[DeliveryProbe], SidecarProcess]:
    """etcd, one scheduler, the actor app and its sidecar (with an actor state store), ready to host reminders."""
    stack = ctx.stack()
    stack.start_etcd()
    stack.start_scheduler(0, extra_args=["--etcd-max-txn-ops", "10000"])
    ports = stack.sidecar_ports()
    app = stack.start_actor_app(ports)
    resources = write_actor_state_store(ctx.workdir / "resources", stack.etcd_endpoint, key_prefix=None,
                                        name="actorstate", file_name="actorstate.yaml")
    sidecar = stack.start_sidecar(APP_ID, app.port, "http", extra_args=["--resources-path", str(resources)],
                                  ports=ports)
    stack.wait_app(app)
    wait_until(lambda: actor_type_hosted(sidecar.http_port), 60, f"{ACTOR_TYPE} hosted by the sidecar",
               interval=0.2, watch=[sidecar, app.proc])
    stack.wait_streams()
    ctx.watch_usage(stack)
    return stack, app, sidecar


def register_reminders(ctx: ScenarioContext, sidecar: SidecarProcess, name: str, count: int,
                       due_start_ns: int) -> dict[str, Any]:
    return run_loadgen(ctx.sup, "reminder-register",
                       {"http_port": sidecar.http_port, "actor_type": ACTOR_TYPE, "id_prefix": "a-", "name": name,
                        "count": count, "concurrency": CONCURRENCY, "due_start_ns": due_start_ns})


def require_all_registered(result: dict[str, Any]) -> None:
    if result["failed"]:
        raise RuntimeError(f"{result['failed']} reminder registrations failed, e.g. {result['errors'][:2]}")


def measure_registration(ctx: ScenarioContext, stack: BenchDeployment, sidecar: SidecarProcess,
                         count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Returns (the sidecar's registration run, the raw etcd ceiling run)."""
    ceiling = run_loadgen(ctx.sup, "etcd-create", {"endpoint": stack.etcd_endpoint, "count": count,
                                                    "concurrency": CONCURRENCY, "key_prefix": "bench-ceiling"})
    with ctx.profile("registration", stack):
        reg = register_reminders(ctx, sidecar, "idle", count, FAR_FUTURE_NS)
    require_all_registered(reg)
    ctx.detail("register", reg)
    ctx.detail("ceiling_etcd_txn", ceiling)
    return reg, ceiling


def measure_triggers(ctx: ScenarioContext, stack: BenchDeployment, app: AppHandle[DeliveryProbe],
                     sidecar: SidecarProcess, count: int, register_rate: float) -> tuple[DeliveryReport, float]:
    """Returns (what the app received, triggers/s from the due instant to the last one received)."""
    # Due far enough ahead that registering them all finishes first (``register_rate`` was measured just before).
    due = time.time_ns() + int((count / max(50.0, register_rate) * 1.4 + 3) * NS_PER_S)
    require_all_registered(register_reminders(ctx, sidecar, "fire", count, due))
    if time.time_ns() > due:
        ctx.note("registering the fired reminders overran their due instant")
    with ctx.profile("triggers", stack):
        arrival = wait_for_deliveries(stack, app, count, None, timeout_s=max(120.0, count / 50), first_due_ns=due)
    assert app.probe is not None
    report = analyse(app.probe.dump(ctx.workdir / "reminders.tsv"))
    last = max((d.recv_ns for d in report.deliveries), default=due)
    e2e_rate = rate_per_s(report.names, last - due)
    ctx.detail("triggers", {"received": arrival.received, "distinct": report.names, "duplicates": report.duplicates,
                            "early": report.early, "rate_per_s": e2e_rate, "timed_out": arrival.timed_out,
                            "lateness": LatencySummary.of_ns(report.lateness_ns).as_dict()})
    return report, e2e_rate


def measure_app_direct(ctx: ScenarioContext, stack: BenchDeployment, app: AppHandle[DeliveryProbe],
                       sidecar: SidecarProcess, count: int) -> dict[int, dict[str, Any]]:
    """The trigger ceiling: with the sidecar and schedulers stopped, the app called directly as a sidecar calls it,
    per concurrency."""
    for proc in (sidecar, *stack.schedulers):
        proc.stop()
    assert app.probe is not None
    app.probe.reset()
    direct = {}
    for concurrency in (SIDECAR_APP_CONNECTIONS, CONCURRENCY):
        app.probe.reset()
        direct[concurrency] = run_loadgen(ctx.sup, "actor-direct",
                                          {"app_port": app.port, "actor_type": ACTOR_TYPE, "id_prefix": "a-",
                                           "name": "fire", "count": count, "concurrency": concurrency})
    ctx.detail("ceiling_app_direct", {str(k): v for k, v in direct.items()})
    return direct


def report_figures(ctx: ScenarioContext, reg: dict[str, Any], ceiling: dict[str, Any], report: DeliveryReport,
                   e2e_rate: float, direct: dict[int, dict[str, Any]], trig_count: int) -> None:
    r = ctx.result
    etcd_name = f"raw etcd create txn, {CONCURRENCY} in flight"
    r.add(Figure("reminder registrations/s", reg["rate_per_s"], "1/s", ceiling["rate_per_s"], etcd_name))
    r.add(Figure("reminder registrations/s vs Dapr", reg["rate_per_s"], "1/s", DAPR_REGISTER_QPS,
                 "Dapr v1.17 perf report (published)"))
    r.add(Figure("registration p50", reg["latency"]["p50_ms"], "ms", DAPR_REGISTER_P50_MS,
                 "Dapr v1.17 perf report (published)"))
    r.add(Figure("registration p99", reg["latency"]["p99_ms"], "ms", DAPR_REGISTER_P99_MS,
                 "Dapr v1.17 perf report (published)"))
    r.add(Figure("registration p99 vs etcd", reg["latency"]["p99_ms"], "ms", ceiling["latency"]["p99_ms"], etcd_name))
    for concurrency, feed in direct.items():
        r.add(Figure("reminder triggers/s", e2e_rate, "1/s", feed["rate_per_s"],
                     f"app called directly, {concurrency} in flight"))
    r.add(Figure("reminder triggers/s vs Dapr", e2e_rate, "1/s", DAPR_TRIGGER_QPS, "Dapr v1.17 perf report"))
    r.add(Figure("reminders delivered", report.names, "reminders", trig_count, "registered",
                 **ratio_at_least(1.0, "all")))
    r.add(Figure("early reminders", report.early, "reminders", **exactly(0, "0")))


def run(ctx: ScenarioContext) -> None:
    reg_count = ctx.count(20_000, 1_000)
    trig_count = ctx.count(20_000, 1_000)
    ctx.result.size.update(registrations=reg_count, triggers=trig_count, concurrency=CONCURRENCY)
    stack, app, sidecar = start_actor_stack(ctx)
    reg, ceiling = measure_registration(ctx, stack, sidecar, reg_count)
    report, e2e_rate = measure_triggers(ctx, stack, app, sidecar, trig_count, reg["rate_per_s"])
    direct = measure_app_direct(ctx, stack, app, sidecar, trig_count)
    report_figures(ctx, reg, ceiling, report, e2e_rate, direct, trig_count)

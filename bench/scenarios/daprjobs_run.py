"""Scenario ``run``: registration and triggers through ``daprjobs run`` (scheduler and sidecar in one process).

``daprjobs run --etcd-client-endpoints <bench etcd>`` hosts one scheduler replica and the app's sidecar in one
process; the sidecar reaches its replica through the in-process transport (no gRPC hop, issue 12). The SDK app
and the load generators are processes of their own, as in the other scenarios.

Figures: ScheduleJob through the SDK (8 threads): jobs/s and p50/p99; N one-shot jobs due at one instant: triggers/s
as the app received them. Ceiling: the same app process fed ``OnJobEventAlpha1`` directly at the sidecar's
concurrency limit (1,000 in flight), with ``daprjobs run`` stopped — measured in the same run.
"""

from __future__ import annotations

import pathlib
from typing import Any

from bench.deployment import BenchDeployment
from bench.report import Figure, at_least, at_most, exactly, ratio_at_least
from bench.scenario import ScenarioContext
from bench.scenarios.jobrun import APP_ID, FAR_FUTURE_NS, sdk_register
from bench.scenarios.trigger import PREFIX, SIDECAR_APP_CONCURRENCY, ceiling_app, measure_end_to_end
from tests.support.daprjobs_processes import DAPRJOBS, SidecarProcess
from tests.support.metrics import pick, scrape
from tests.support.waiting import wait_until


class RunProcess(SidecarProcess):
    """``daprjobs run`` for one app with no app command (the bench starts the app), on the bench's etcd."""

    def __init__(self, log_dir: pathlib.Path, app_id: str, etcd_endpoint: str, app_port: int, grpc_port: int,
                 http_port: int, metrics_port: int, resources: pathlib.Path, name: str) -> None:
        super().__init__(log_dir, app_id, "", app_port=app_port, app_protocol="grpc", http_port=http_port,
                         grpc_port=grpc_port, metrics_port=metrics_port, name=name)
        # An empty resources path: no default statestore/pubsub (and so no embedded redis-server) to start.
        self.argv = [*DAPRJOBS, "run", "--app-id", app_id, "--app-port", str(app_port), "--app-protocol", "grpc",
                     "--dapr-http-port", str(http_port), "--dapr-grpc-port", str(grpc_port),
                     "--metrics-port", str(metrics_port), "--etcd-client-endpoints", etcd_endpoint,
                     "--resources-path", str(resources)]

    def streams(self) -> float:
        try:
            return pick(scrape_sidecar(self), "daprjobs_sidecar_scheduler_streams") or 0.0
        except OSError:
            return 0.0


def scrape_sidecar(proc: SidecarProcess) -> dict[str, float]:
    assert proc.metrics_port is not None
    return scrape(proc.metrics_port)


def deploy_run(ctx: ScenarioContext, count: int) -> tuple[BenchDeployment, RunProcess]:
    stack = ctx.stack()
    stack.start_etcd()
    app = stack.start_job_app([f"{PREFIX}:{count}"])
    resources = ctx.workdir / "no-resources"
    resources.mkdir(exist_ok=True)
    grpc_port, http_port, metrics_port = stack.sidecar_ports()
    proc = RunProcess(stack.sup.log_dir, APP_ID, stack.etcd_endpoint, app.port, grpc_port, http_port, metrics_port,
                      resources, name="sidecar-run")
    stack.sup.adopt(proc).start()
    wait_until(proc.healthy, 120, "daprjobs run healthz", interval=0.1, watch=[proc])
    wait_until(lambda: proc.streams() >= 1, 60, "daprjobs run job stream", interval=0.1, watch=[proc])
    stack.sidecars.append(proc)
    ctx.watch_usage(stack)
    return stack, proc


def run(ctx: ScenarioContext) -> None:
    count = ctx.count(100_000, 5_000)
    registrations = ctx.count(20_000, 2_000)
    ctx.result.size.update(jobs=count, registrations=registrations)
    stack, proc = deploy_run(ctx, count)
    with ctx.profile("register", stack) as reg_cpu:
        reg: dict[str, Any] = sdk_register(ctx, proc, "g-", registrations, FAR_FUTURE_NS)
    ctx.detail("register", reg)
    e2e = measure_end_to_end(ctx, stack, count)
    ctx.detail("end_to_end", e2e)
    same = min(count, SIDECAR_APP_CONCURRENCY)
    a = ceiling_app(ctx, stack, count, same)
    ctx.detail("ceiling_app_direct", a)

    r = ctx.result
    r.add(Figure("SDK gRPC jobs/s (daprjobs run)", reg["rate_per_s"], "1/s", **at_least(1500, ">= 1,500/s")))
    r.add(Figure("SDK gRPC p99 (daprjobs run)", reg["latency"]["p99_ms"], "ms", **at_most(50, "<= 50 ms")))
    r.add(Figure("SDK gRPC p50 (daprjobs run)", reg["latency"]["p50_ms"], "ms"))
    for name, seconds in reg_cpu.items():
        r.add(Figure(f"{name} CPU per SDK job", round(1000 * seconds / registrations, 4), "ms"))
    r.add(Figure("triggers/s (app received, daprjobs run)", e2e["recv_rate_per_s"], "1/s", a["rate_per_s"],
                 f"(a) app fed directly, {same} in flight", **ratio_at_least(0.8, ">= 0.8 x (a)")))
    r.add(Figure("delivered", e2e["distinct"], "jobs", count, "scheduled", **ratio_at_least(1.0, "all")))
    r.add(Figure("duplicates", e2e["duplicates"], "deliveries", **exactly(0, "0")))
    r.add(Figure("early", e2e["early"], "deliveries", **exactly(0, "0")))
    for name, ms in e2e["cpu_ms_per_trigger"].items():
        r.add(Figure(f"{name} CPU per trigger", ms, "ms"))

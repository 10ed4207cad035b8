"""Operating a replica: --healthz-port readiness and --metrics-port Prometheus metrics of `daprjobs scheduler`."""

from __future__ import annotations

import asyncio
import re
import urllib.request
from collections.abc import Callable

import grpc
import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.proto.scheduler.v1 import scheduler_pb2_grpc

from tests.support.daprjobs_processes import SchedulerProcess
from tests.support.inprocess import unique_prefix
from tests.support.waiting import eventually

from .jobrequests import actor_meta, app_meta, drop_policy, due_in, schedule
from .sidecar_client import FAILED, SUCCESS, SidecarClient, Trigger

pytestmark = [pytest.mark.timeout(90), pytest.mark.slow]


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$", line)
        if match:
            samples[match.group(1)] = float(match.group(2))
    return samples


async def test_healthz_is_ready_only_once_joined_and_metrics_use_dapr_names(
        module_etcd: EtcdProcess, replica_processes: Callable[..., SchedulerProcess]) -> None:
    prefix = unique_prefix()
    first = replica_processes("same-id", module_etcd.endpoint, prefix, 3)
    await first.wait_ready()
    metrics_port = free_port()
    # A second process with the same id cannot join while the first holds it: it serves /healthz, not ready.
    second = replica_processes("same-id", module_etcd.endpoint, prefix, 3, ["--metrics-port", str(metrics_port)])
    await eventually(lambda: second.healthz() is not None, 30, "the second replica's /healthz to answer")
    for _ in range(5):
        assert second.healthz() == 503
        await asyncio.sleep(0.1)
    assert first.healthz() == 200
    first.terminate()
    assert await first.wait_exit() == 0
    await second.wait_ready()
    assert second.healthz() == 200

    def fail_bad(t: Trigger) -> int:
        return FAILED if t.name == "bad" else SUCCESS

    client = SidecarClient("app-metrics", actor_types=["Cart"], ack_policy=fail_bad)
    await client.connect(second.address)
    try:
        async with grpc.aio.insecure_channel(second.address) as channel:
            stub = scheduler_pb2_grpc.SchedulerStub(channel)
            due, _ = due_in(0.2)
            far, _ = due_in(3600)
            for i in range(3):
                await schedule(stub, f"soon-{i}", app_meta("app-metrics"), due_time=due)
            await schedule(stub, "r", actor_meta("app-metrics", "Cart", "c1"), due_time=due)
            await schedule(stub, "bad", app_meta("app-metrics"), due_time=due, failure_policy=drop_policy())
            for i in range(2):
                await schedule(stub, f"later-{i}", app_meta("app-metrics"), due_time=far)
            await eventually(lambda: len(client.triggers) == 5, 15, "5 triggers")

        def settled() -> bool:
            m = scrape(metrics_port)
            return (m.get("dapr_scheduler_jobs_triggered_total") == 4.0
                    and m.get("daprjobs_scheduler_owned_jobs") == 2.0)

        await eventually(settled, 10, "metrics to count the triggers and the jobs left", interval=0.2)
        m = scrape(metrics_port)
        assert m['dapr_scheduler_jobs_created_total{type="job"}'] == 6.0
        assert m['dapr_scheduler_jobs_created_total{type="actor"}'] == 1.0
        assert m["dapr_scheduler_jobs_failed_total"] == 1.0
        assert m["dapr_scheduler_sidecars_connected"] == 1.0
        assert m['dapr_scheduler_trigger_latency_count'] == 4.0
        assert "dapr_scheduler_jobs_undelivered_total" in m
        # Only the two far-future jobs are left to trigger.
        assert m["daprjobs_scheduler_owned_jobs"] == 2.0
    finally:
        await client.close()

"""Jobs keep flowing through scheduler restarts (graceful and kill -9) and while the app is down."""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import uuid

import aiohttp
import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.sidecar.assembly import jobs_only
from daprjobs.sidecar.config import SidecarConfig
from daprjobs.sidecar.server import Sidecar

from tests.support.apps import HttpJobApp
from tests.support.daprjobs_processes import SchedulerProcess
from tests.support.inprocess import StackFactory, scheduler_config, unique_prefix
from tests.support.waiting import eventually


async def post_job(http_url: str, name: str, body: dict[str, object]) -> None:
    async with aiohttp.ClientSession() as session, session.post(f"{http_url}/v1.0/jobs/{name}", json=body) as r:
        assert r.status == 204, await r.text()


async def test_graceful_scheduler_restart(make_stack: StackFactory, http_app: HttpJobApp) -> None:
    stack = await make_stack("restart-graceful", app_port=http_app.port)
    await post_job(stack.http_url, "tick", {"schedule": "@every 1s"})
    await http_app.wait_for("tick", 2)
    await stack.stop_scheduler()
    await asyncio.sleep(2)  # the sidecar's streams and WatchHosts are failing and retrying now
    before = len(http_app.named("tick"))
    await stack.start_scheduler()
    await http_app.wait_for("tick", before + 3)
    await post_job(stack.http_url, "after", {"dueTime": "0s", "data": "new"})
    [after] = await http_app.wait_for("after")
    assert after.body == b'"new"'


async def test_scheduler_killed_and_restarted(module_etcd: EtcdProcess, http_app: HttpJobApp,
                                              tmp_path: pathlib.Path) -> None:
    """dapr/dapr#10337: a sidecar whose scheduler vanished (kill -9) must reconnect by itself."""
    prefix = unique_prefix()
    scheduler = SchedulerProcess(tmp_path, module_etcd.endpoint, prefix, replica_id=f"replica-{prefix}", lease_ttl_s=3)
    scheduler.start()
    await scheduler.wait_ready(30)
    sidecar = Sidecar(SidecarConfig(app_id="restart-kill", app_port=http_app.port, dapr_http_port=free_port(),
                                    dapr_grpc_port=free_port(), scheduler_host_addresses=[scheduler.address],
                                    metrics_port=None, app_health_probe_interval_s=0.5), blocks=jobs_only)
    try:
        await sidecar.start()
        http_url = f"http://127.0.0.1:{sidecar.http_port}"
        await post_job(http_url, "tick", {"schedule": "@every 1s"})
        await http_app.wait_for("tick", 2)
        for _ in range(2):  # twice: recovery must not depend on a first-time-only path
            scheduler.kill()
            await asyncio.sleep(3)
            before = len(http_app.named("tick"))
            scheduler.start()
            await scheduler.wait_ready(30)
            await http_app.wait_for("tick", before + 2, timeout=45)
        await post_job(http_url, "after-kill", {"dueTime": "0s"})
        await http_app.wait_for("after-kill")
        # every stream is back (each reconnects on its own backoff)
        await eventually(lambda: sidecar.scheduler.connected_stream_count() == 3, what="3 streams connected")
    finally:
        await sidecar.stop()
        scheduler.kill()


@pytest.mark.parametrize("probe_interval_s", [0.5, 30.0], ids=["probe-notices", "delivery-notices"])
async def test_app_down_then_back_loses_nothing(make_stack: StackFactory, probe_interval_s: float) -> None:
    """Jobs that fall due while the app is down wait for it; when it is back every one of them fires."""
    app = HttpJobApp()
    await app.start()
    stack = await make_stack("app-down", app_port=app.port, app_health_probe_interval_s=probe_interval_s)
    await post_job(stack.http_url, "warmup", {"dueTime": "0s"})
    await app.wait_for("warmup")  # streams are open: the app was seen healthy
    await app.stop()
    await post_job(stack.http_url, "once", {"dueTime": "1s", "data": {"n": 1}})
    await post_job(stack.http_url, "thrice", {"schedule": "@every 1s", "repeats": 3})
    await asyncio.sleep(6)  # everything falls due (and past the default 3 retries) while the app is away
    back = HttpJobApp(port=app.port)
    await back.start()
    try:
        [once] = await back.wait_for("once")
        assert once.body == b'{"n":1}'
        await back.wait_for("thrice", 3)
    finally:
        await back.stop()
    assert stack.sidecar.app_health is not None and stack.sidecar.app_health.healthy


async def test_streams_to_every_replica(module_etcd: EtcdProcess, http_app: HttpJobApp) -> None:
    """Given one address, the sidecar learns every replica (WatchHosts) and opens 3 streams to each."""
    from daprjobs.scheduler.server import SchedulerReplica

    prefix = "t" + uuid.uuid4().hex[:10]
    replicas = []
    for i in range(2):
        config = scheduler_config(module_etcd.endpoint, prefix, free_port())
        config.replica_id = f"replica-{prefix}-{i}"
        replica = SchedulerReplica(config)
        await replica.start()
        replicas.append(replica)
    sidecar = Sidecar(SidecarConfig(app_id="two-replicas", app_port=http_app.port, dapr_http_port=free_port(),
                                    dapr_grpc_port=free_port(), scheduler_host_addresses=[replicas[0].address],
                                    metrics_port=None, app_health_probe_interval_s=0.5), blocks=jobs_only)
    try:
        await sidecar.start()
        addresses = sorted(r.address for r in replicas)
        await eventually(lambda: sidecar.scheduler.hosts == addresses, what="both replicas known")
        await eventually(lambda: sidecar.scheduler.connected_stream_count() == 6, what="6 streams")
        http_url = f"http://127.0.0.1:{sidecar.http_port}"
        names = [f"spread-{i}" for i in range(12)]  # enough jobs that both replicas own some
        for name in names:
            await post_job(http_url, name, {"dueTime": "0s"})
        for name in names:
            await http_app.wait_for(name)
        await replicas[1].stop()  # the survivor takes over and tells the sidecar
        await eventually(lambda: sidecar.scheduler.hosts == [replicas[0].address], what="one replica left")
        await post_job(http_url, "after-leave", {"dueTime": "0s"})
        await http_app.wait_for("after-leave")
    finally:
        await sidecar.stop()
        for replica in replicas:
            with contextlib.suppress(Exception):
                await replica.stop()

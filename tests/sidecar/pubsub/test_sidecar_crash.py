"""kill -9 of the subscriber's sidecar mid-stream loses nothing: un-acked entries stay pending in the consumer
group and the next sidecar of the app claims them after processingTimeout."""

from __future__ import annotations

import asyncio
import pathlib
import uuid

import aiohttp
import pytest
from daprjobs.components.pubsub.redisserver import RedisServerProcess
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.scheduler.server import SchedulerReplica

from tests.support.daprjobs_processes import SidecarProcess
from tests.support.inprocess import scheduler_config, unique_prefix
from tests.support.waiting import eventually

from .apps import HttpSubscriberApp
from .conftest import write_resources


@pytest.mark.slow
async def test_kill_9_of_subscriber_sidecar_loses_nothing(module_etcd: EtcdProcess, module_redis: RedisServerProcess,
                                                          tmp_path: pathlib.Path) -> None:
    name = "crash-" + uuid.uuid4().hex[:8]
    total = 60
    replica = SchedulerReplica(scheduler_config(module_etcd.endpoint, unique_prefix(), free_port()))
    await replica.start()
    app = HttpSubscriberApp([{"pubsubname": "pubsub", "topic": name, "route": "/e"}])
    # The app is slow, so the sidecar holds messages in flight when it dies.
    slow = asyncio.Event()
    original = app._deliver

    async def slow_deliver(request):  # type: ignore[no-untyped-def]
        if not slow.is_set():
            await asyncio.sleep(0.3)
        return await original(request)

    app._deliver = slow_deliver  # type: ignore[method-assign]
    await app.start()
    resources = write_resources(tmp_path / "res", module_redis.address, concurrency="2")
    sidecars: list[SidecarProcess] = []
    try:
        def sidecar() -> SidecarProcess:
            proc = SidecarProcess(tmp_path, "crashy", replica.address, app_port=app.port, resources_path=resources)
            sidecars.append(proc)
            proc.start()
            return proc

        first = sidecar()
        await first.wait_ready()
        await eventually(lambda: app.subscriptions and _subscribed(first), what="first sidecar subscribed")
        async with aiohttp.ClientSession() as http:
            for i in range(total):
                async with http.post(f"{first.base}/v1.0/publish/pubsub/{name}", json={"i": i}) as r:
                    assert r.status == 204
        await eventually(lambda: len(app.deliveries) >= 4, what="some deliveries")
        first.kill()
        received_at_kill = {d.event["data"]["i"] for d in app.deliveries}
        assert len(received_at_kill) < total  # the kill really was mid-stream
        slow.set()
        second = sidecar()
        await second.wait_ready()
        await eventually(lambda: {d.event["data"]["i"] for d in app.deliveries} == set(range(total)), timeout=60,
                         what="every message after the kill")
    finally:
        for proc in sidecars:
            proc.stop()
        await app.stop()
        await replica.stop()


async def _subscribed(proc: SidecarProcess) -> bool:
    meta = await proc.metadata()
    return bool(meta.get("subscriptions"))

"""Batched WatchJobs streams between daprjobs ends (beyond Dapr), and Dapr's exact protocol for anyone else.

A client built from the project's own scheduler.proto that sends no batch header acts as daprd: it must get one
trigger per message and may ack one per message. A daprjobs sidecar killed with triggers of a batch in hand loses
none of them.
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from aiohttp import web
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.scheduler.server import SchedulerReplica
from daprjobs.scheduler.watch_batching import BATCH_HEADER

from tests.scheduler.jobrequests import app_meta
from tests.support.daprjobs_processes import SidecarProcess
from tests.support.inprocess import scheduler_config, unique_prefix
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(180)
JOBS = 40


@pytest.fixture
async def replica(module_etcd: EtcdProcess) -> AsyncIterator[SchedulerReplica]:
    replica = SchedulerReplica(scheduler_config(module_etcd.endpoint, unique_prefix(), free_port()))
    await replica.start()
    try:
        yield replica
    finally:
        await asyncio.wait_for(replica.stop(), 30)


def initial(app_id: str) -> scheduler_pb2.WatchJobsRequest:
    return scheduler_pb2.WatchJobsRequest(initial=scheduler_pb2.WatchJobsRequestInitial(
        app_id=app_id, namespace="default", accept_job_types=[scheduler_pb2.JOB_TARGET_TYPE_JOB]))


async def schedule_now(stub: scheduler_pb2_grpc.SchedulerStub, app_id: str, count: int, due: str = "1s") -> None:
    await asyncio.gather(*(stub.ScheduleJob(scheduler_pb2.ScheduleJobRequest(
        name=f"b-{i}", job=scheduler_pb2.Job(due_time=due), metadata=app_meta(app_id))) for i in range(count)))


async def no_jobs_left(stub: scheduler_pb2_grpc.SchedulerStub, app_id: str) -> bool:
    return not (await stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=app_meta(app_id)))).jobs


async def watch(replica: SchedulerReplica, app_id: str, metadata: tuple[tuple[str, str], ...],
                ) -> tuple[list[scheduler_pb2.WatchJobsResponse], Any, Any, grpc.aio.Channel]:
    """Open WatchJobs as ``metadata`` asks, schedule ``JOBS`` jobs due together, read until all arrived."""
    channel = grpc.aio.insecure_channel(replica.address)
    stub = scheduler_pb2_grpc.SchedulerStub(channel)
    call = stub.WatchJobs(metadata=metadata)
    await call.write(initial(app_id))
    await eventually(lambda: replica.dispatcher.has_route(("app", "default", app_id)), 30, what="stream registered")
    await schedule_now(stub, app_id, JOBS)
    messages: list[scheduler_pb2.WatchJobsResponse] = []
    triggers = 0
    while triggers < JOBS:
        message = await asyncio.wait_for(call.read(), 30)
        messages.append(message)
        triggers += len(message.daprjobs_batch) or 1
    return messages, call, stub, channel


async def test_a_client_that_does_not_ask_gets_daprs_protocol(replica: SchedulerReplica) -> None:
    messages, call, stub, channel = await watch(replica, "plain", ())
    try:
        assert len(messages) == JOBS
        assert all(m.name and not m.daprjobs_batch for m in messages)
        assert BATCH_HEADER not in dict(await call.initial_metadata())
        for m in messages:
            await call.write(scheduler_pb2.WatchJobsRequest(
                result=scheduler_pb2.WatchJobsRequestResult(id=m.id, status=scheduler_pb2.SUCCESS)))
        await eventually(lambda: no_jobs_left(stub, "plain"), 30, what="every single ack completed its job")
    finally:
        call.cancel()
        await channel.close()


async def test_a_daprjobs_client_gets_batches_and_acks_in_batches(replica: SchedulerReplica) -> None:
    messages, call, stub, channel = await watch(replica, "batched", ((BATCH_HEADER, "16"),))
    try:
        assert dict(await call.initial_metadata())[BATCH_HEADER] == "16"
        sizes = [len(m.daprjobs_batch) for m in messages]
        assert max(sizes) > 1 and max(sizes) <= 16, sizes
        triggers = [t for m in messages for t in (m.daprjobs_batch or [m])]
        assert sorted(t.name for t in triggers) == sorted(f"b-{i}" for i in range(JOBS))
        await call.write(scheduler_pb2.WatchJobsRequest(daprjobs_results=[
            scheduler_pb2.WatchJobsRequestResult(id=t.id, status=scheduler_pb2.SUCCESS) for t in triggers]))
        await eventually(lambda: no_jobs_left(stub, "batched"), 30, what="one batched ack completed every job")
    finally:
        call.cancel()
        await channel.close()


class SlowJobApp:
    """An HTTP job app that takes its time, so a sidecar holds many triggers when it is killed."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[str] = []
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/job/{name}", self._on_job)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _on_job(self, request: web.Request) -> web.Response:
        self.received.append(request.match_info["name"])
        await asyncio.sleep(0.5)
        return web.Response(status=200)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.mark.slow
async def test_kill_9_of_a_sidecar_mid_batch_loses_nothing(replica: SchedulerReplica, tmp_path: pathlib.Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="daprjobs.scheduler.api")
    app = SlowJobApp()
    await app.start()
    sidecars: list[SidecarProcess] = []
    try:
        def sidecar() -> SidecarProcess:
            proc = SidecarProcess(tmp_path, "killed", replica.address, app_port=app.port, app_protocol="http")
            sidecars.append(proc)
            return proc.start()

        first = sidecar()
        await eventually(lambda: replica.dispatcher.has_route(("app", "default", "killed")), 60,
                         what="the first sidecar's streams", watch=[first])
        assert any("batch=64" in r.getMessage() for r in caplog.records), "the sidecar did not negotiate batches"
        async with grpc.aio.insecure_channel(replica.address) as channel:
            stub = scheduler_pb2_grpc.SchedulerStub(channel)
            await schedule_now(stub, "killed", 300)
            await eventually(lambda: len(app.received) >= 30, 60, what="triggers in the first sidecar's hands")
            first.kill()
            second = sidecar()
            await eventually(lambda: no_jobs_left(stub, "killed"), 120, what="every job delivered and acked",
                             watch=[second])
        assert set(app.received) == {f"b-{i}" for i in range(300)}
    finally:
        for proc in sidecars:
            proc.kill()
        await app.stop()

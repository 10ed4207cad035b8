"""The scheduler link's contract, met by the gRPC transport and the in-process one alike (``link`` fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import grpc
import pytest
from daprjobs.etcd.embedded import free_port
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.scheduler.local_endpoint import LocalEndpoint
from daprjobs.sidecar.block import AckStatus
from daprjobs.sidecar.schedulerlink.client import SchedulerClient

from tests.scheduler.jobrequests import app_meta, constant_policy, payload
from tests.sidecar.schedulerlink.conftest import Link, RecordingHandler
from tests.support.waiting import eventually

pytestmark = pytest.mark.timeout(120)


def now_job(**fields: object) -> scheduler_pb2.Job:
    return scheduler_pb2.Job(due_time="0s", **fields)  # type: ignore[arg-type]


async def rpc_code(call: Awaitable[object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value.code(), caught.value.details() or ""


async def job_gone(client: SchedulerClient, name: str, app_id: str) -> bool:
    try:
        await client.get_job(name, app_meta(app_id))
    except grpc.aio.AioRpcError as err:
        return err.code() == grpc.StatusCode.NOT_FOUND
    return False


async def test_unary_calls_and_their_errors(link: Link) -> None:
    client = await link.client(RecordingHandler(), "unary")
    meta = app_meta("unary")
    await client.schedule_job("a", scheduler_pb2.Job(due_time="1h", data=payload("x")), meta, False)
    got = await client.get_job("a", meta)
    assert got.job.due_time == "1h" and got.job.data == payload("x")
    assert await rpc_code(client.schedule_job("a", scheduler_pb2.Job(due_time="1h"), meta, False)) == (
        grpc.StatusCode.ALREADY_EXISTS, "job already exists: 'app||default||unary||a'")
    await client.schedule_job("a", scheduler_pb2.Job(due_time="2h"), meta, True)
    assert (await client.get_job("a", meta)).job.due_time == "2h"
    assert await rpc_code(client.get_job("missing", meta)) == (grpc.StatusCode.NOT_FOUND, "job not found: missing")
    no_identity = scheduler_pb2.JobMetadata(namespace="default")
    assert await rpc_code(client.list_jobs(no_identity)) == (
        grpc.StatusCode.INVALID_ARGUMENT, "missing namespace or appID in request")
    code, _ = await rpc_code(client.schedule_job("bad", scheduler_pb2.Job(schedule="not a cron"), meta, False))
    assert code == grpc.StatusCode.UNKNOWN
    await client.schedule_job("p-1", scheduler_pb2.Job(due_time="1h"), meta, False)
    await client.delete_by_name_prefix("p-", meta)
    assert [j.name for j in (await client.list_jobs(meta)).jobs] == ["a"]
    await client.delete_job("a", meta)
    assert (await client.list_jobs(meta)).jobs == []


async def test_due_job_delivered_once_and_its_ack_completes_it(link: Link) -> None:
    handler = RecordingHandler()
    client = await link.client(handler, "once")
    await client.schedule_job("j", now_job(data=payload("hello")), app_meta("once"), False)
    await eventually(lambda: job_gone(client, "j", "once"), 30, what="one-shot job removed after its SUCCESS ack")
    assert [(t.name, t.data) for t in handler.deliveries] == [("j", payload("hello"))]
    # in-process: one stream is enough (several only spread HTTP/2 work); gRPC: streams_per_host (3)
    assert client.connected_stream_count() == (1 if link.transport == "local" else 3)
    assert handler.deliveries[0].metadata.app_id == "once"


async def test_at_most_one_trigger_in_flight_per_job(link: Link) -> None:
    async def slow(trigger: scheduler_pb2.WatchJobsResponse, attempt: int) -> AckStatus:
        await asyncio.sleep(0.3)  # longer than the period: the next tick must wait for this ack
        return scheduler_pb2.SUCCESS

    handler = RecordingHandler(slow)
    client = await link.client(handler, "serial")
    await client.schedule_job("r", scheduler_pb2.Job(schedule="@every 50ms", repeats=4), app_meta("serial"), False)
    await eventually(lambda: job_gone(client, "r", "serial"), 30, what="all four ticks acked")
    assert handler.per_name["r"] == 4
    assert handler.max_in_hand_per_name == 1


async def test_acks_drive_the_counter_failed_is_retried(link: Link) -> None:
    async def fail_first(trigger: scheduler_pb2.WatchJobsResponse, attempt: int) -> AckStatus:
        return scheduler_pb2.FAILED if attempt == 1 else scheduler_pb2.SUCCESS

    handler = RecordingHandler(fail_first)
    client = await link.client(handler, "retry")
    job = now_job(failure_policy=constant_policy(0.1, 3))
    await client.schedule_job("f", job, app_meta("retry"), False)
    await eventually(lambda: job_gone(client, "f", "retry"), 30, what="job done after FAILED then SUCCESS")
    assert handler.per_name["f"] == 2


async def test_a_stopped_sidecars_in_flight_trigger_is_redelivered(link: Link) -> None:
    release = asyncio.Event()

    async def hold(trigger: scheduler_pb2.WatchJobsResponse, attempt: int) -> AckStatus:
        await release.wait()
        return scheduler_pb2.SUCCESS

    first = RecordingHandler(hold)
    client = await link.client(first, "handover")
    await client.schedule_job("h", now_job(), app_meta("handover"), False)
    await eventually(lambda: first.per_name["h"] == 1, 30, what="trigger in the first sidecar's hands")
    stopping = asyncio.create_task(client.stop(handler_grace_s=0.5))
    await stopping
    release.set()  # its late ack has no stream left to go to

    second = RecordingHandler()
    successor = await link.client(second, "handover")
    await eventually(lambda: job_gone(successor, "h", "handover"), 30, what="the trigger redelivered and acked")
    assert second.per_name["h"] == 1 and first.per_name["h"] == 1


async def test_backpressure_bounds_triggers_in_hand_and_drops_none(link: Link) -> None:
    async def brief(trigger: scheduler_pb2.WatchJobsResponse, attempt: int) -> AckStatus:
        await asyncio.sleep(0.02)
        return scheduler_pb2.SUCCESS

    handler = RecordingHandler(brief)
    client = await link.client(handler, "gate", max_triggers_in_hand=4)
    meta = app_meta("gate")
    await asyncio.gather(*(client.schedule_job(f"g-{i}", now_job(), meta, False) for i in range(60)))
    await eventually(lambda: _no_jobs(client, meta), 60, what="every trigger delivered and acked")
    assert sorted(handler.per_name) == sorted(f"g-{i}" for i in range(60))
    assert set(handler.per_name.values()) == {1}
    assert handler.max_total_in_hand <= 4


async def _no_jobs(client: SchedulerClient, meta: scheduler_pb2.JobMetadata) -> bool:
    return not (await client.list_jobs(meta)).jobs


async def test_a_stopped_replica_ends_the_streams_and_refuses_calls(link: Link) -> None:
    client = await link.client(RecordingHandler(), "stop", rpc_timeout_s=2.0)
    await eventually(lambda: client.connected_stream_count() > 0, 30, what="streams open")
    await link.stop_replica()
    await eventually(lambda: client.connected_stream_count() == 0, 30, what="streams ended with the replica")
    code, _ = await rpc_code(client.get_job("x", app_meta("stop")))
    assert code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


async def test_local_unary_calls_skip_grpc(link: Link) -> None:
    """With an in-process replica, the unary API is served even where no gRPC server listens."""
    if link.transport != "local":
        pytest.skip("in-process transport only")
    nowhere = f"127.0.0.1:{free_port()}"
    local = LocalEndpoint(nowhere, link.replica.local_endpoint().service, lambda: True)
    client = SchedulerClient([nowhere], "direct", "default", local=local, rpc_timeout_s=2.0)
    link.clients.append(client)
    await client.schedule_job("d", scheduler_pb2.Job(due_time="1h"), app_meta("direct"), False)
    assert [j.name for j in (await client.list_jobs(app_meta("direct"))).jobs] == ["d"]

"""What the Scheduler API answers when etcd fails under it: UNAVAILABLE with a clean message when etcd is down, a
bounded answer saying a write may have been applied when etcd is frozen, and no error at all when one member of
three dies. (Before: UNKNOWN "Unexpected <class 'grpc.aio._call.AioRpcError'>…", calls held until the client's
deadline.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from daprjobs.etcd.cluster import EtcdCluster
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.etcd.store import EtcdStore
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.scheduler.server import SchedulerConfig, SchedulerReplica
from daprjobs.scheduler.store_errors import STORE_FAILURE_KEY

from .jobrequests import app_meta, due_in, schedule
from .sidecar_client import SidecarClient

pytestmark = pytest.mark.timeout(150)

# Far above the store's per-call deadline: only a call that hangs reaches it.
HANG_BOUND_S = 25.0


def _clean(text: str) -> None:
    for internal in ("AioRpcError", "debug_error_string", "Unexpected <class", "Traceback"):
        assert internal not in text, text


async def _replica(endpoints: list[str], prefix: str) -> SchedulerReplica:
    replica = SchedulerReplica(SchedulerConfig(replica_id=f"{prefix}-0", port=free_port(), etcd_endpoints=endpoints,
                                               key_prefix=prefix, lease_ttl_s=5))
    await replica.start()
    return replica


@pytest.fixture
async def stub_on(etcd: EtcdProcess) -> AsyncIterator[tuple[SchedulerReplica, scheduler_pb2_grpc.SchedulerStub]]:
    replica = await _replica([etcd.endpoint], "faults")
    try:
        async with grpc.aio.insecure_channel(replica.address) as channel:
            yield replica, scheduler_pb2_grpc.SchedulerStub(channel)
    finally:
        await replica.stop()


async def test_a_dead_etcd_answers_unavailable_with_a_clean_message(
        etcd: EtcdProcess, stub_on: tuple[SchedulerReplica, scheduler_pb2_grpc.SchedulerStub]) -> None:
    stub = stub_on[1]
    meta = app_meta("app-dead-etcd")
    etcd.kill()
    calls = {
        "schedule job": schedule(stub, "j", meta, due_time=due_in(60)[0]),
        "get job": stub.GetJob(scheduler_pb2.GetJobRequest(name="j", metadata=meta)),
        "list jobs": stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=meta)),
        "delete job": stub.DeleteJob(scheduler_pb2.DeleteJobRequest(name="j", metadata=meta)),
    }
    for action, call in calls.items():
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await asyncio.wait_for(call, HANG_BOUND_S)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE, (action, err.value.details())
        details = err.value.details() or ""
        assert details.startswith(f"cannot {action}: etcd unavailable"), details
        _clean(details)
        assert (STORE_FAILURE_KEY, "unavailable") in tuple(err.value.trailing_metadata() or ())
    etcd.start()
    # Nothing was stored by the refused schedule.
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetJob(scheduler_pb2.GetJobRequest(name="j", metadata=meta))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_frozen_etcd_gets_a_bounded_answer_that_says_the_job_may_have_been_stored(
        etcd: EtcdProcess, stub_on: tuple[SchedulerReplica, scheduler_pb2_grpc.SchedulerStub]) -> None:
    stub = stub_on[1]
    meta = app_meta("app-frozen-etcd")
    etcd.pause()
    try:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await asyncio.wait_for(schedule(stub, "frozen", meta, due_time=due_in(600)[0]), HANG_BOUND_S)
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        details = err.value.details() or ""
        assert "may have been applied" in details and details.startswith("cannot schedule job"), details
        _clean(details)
        with pytest.raises(grpc.aio.AioRpcError) as read:
            await asyncio.wait_for(stub.GetJob(scheduler_pb2.GetJobRequest(name="frozen", metadata=meta)),
                                   HANG_BOUND_S)
        assert read.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        etcd.resume()
    # Once etcd runs again the scheduler answers again; whether the write landed is what GetJob says.
    for _ in range(100):
        try:
            await stub.GetJob(scheduler_pb2.GetJobRequest(name="frozen", metadata=meta))
            break
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                break
            await asyncio.sleep(0.1)
    else:
        raise AssertionError("the scheduler did not answer again after etcd resumed")


async def test_one_dead_member_of_three_is_invisible_to_callers_and_jobs_still_fire(etcd_cluster: EtcdCluster) -> None:
    replica = await _replica(etcd_cluster.endpoints, "member")
    client = SidecarClient("app-member")
    await client.connect(replica.address)
    meta = app_meta("app-member")
    try:
        async with grpc.aio.insecure_channel(replica.address) as channel:
            stub = scheduler_pb2_grpc.SchedulerStub(channel)
            for i in range(5):
                await schedule(stub, f"before{i}", meta, due_time=due_in(1.5)[0])
            assert isinstance(replica.store, EtcdStore)
            victim = next(m for m in etcd_cluster.members if m.endpoint.endswith(replica.store.endpoint))
            victim.kill()
            for i in range(30):
                await asyncio.wait_for(schedule(stub, f"after{i}", meta, due_time=due_in(1.0)[0]), HANG_BOUND_S)
            expected = {f"before{i}" for i in range(5)} | {f"after{i}" for i in range(30)}
            for _ in range(300):
                if set(client.counts()) >= expected:
                    break
                await asyncio.sleep(0.1)
            assert set(client.counts()) == expected, sorted(expected - set(client.counts()))
    finally:
        await client.close()
        await replica.stop()

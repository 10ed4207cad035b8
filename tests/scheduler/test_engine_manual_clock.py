"""The engine against real etcd and real gRPC, but on a ManualClock: time moves only when the test says so.

This is how next-fire math, retries, TTL and catch-up are checked end to end without sleeping for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from daprjobs.core.clock import NS_PER_SECOND, ManualClock
from daprjobs.etcd.embedded import EtcdProcess
from daprjobs.proto.scheduler.v1 import scheduler_pb2 as pb
from daprjobs.proto.scheduler.v1 import scheduler_pb2_grpc
from daprjobs.proto.stored.v1 import stored_pb2
from daprjobs.scheduler.server import SchedulerConfig, SchedulerReplica

META = pb.JobMetadata(app_id="clockapp", namespace="default", target=pb.JobTargetMetadata(job=pb.TargetJob()))
S = NS_PER_SECOND


class Sidecar:
    """A minimal WatchJobs client that records triggers and acks them with a chosen status."""

    def __init__(self, stub: scheduler_pb2_grpc.SchedulerStub, status: int = pb.SUCCESS) -> None:
        self.status = status
        self.triggers: asyncio.Queue[pb.WatchJobsResponse] = asyncio.Queue()
        self._out: asyncio.Queue[pb.WatchJobsRequest] = asyncio.Queue()
        self._out.put_nowait(pb.WatchJobsRequest(
            initial=pb.WatchJobsRequestInitial(app_id=META.app_id, namespace=META.namespace)))
        self._call = stub.WatchJobs(self._requests())
        self._task = asyncio.create_task(self._receive())

    async def _requests(self) -> AsyncIterator[pb.WatchJobsRequest]:
        while True:
            yield await self._out.get()

    async def _receive(self) -> None:
        async for resp in self._call:
            await self.triggers.put(resp)
            self._out.put_nowait(pb.WatchJobsRequest(result=pb.WatchJobsRequestResult(id=resp.id,
                                                                                       status=self.status)))

    async def next(self, timeout: float = 20.0) -> pb.WatchJobsResponse:
        return await asyncio.wait_for(self.triggers.get(), timeout)

    def close(self) -> None:
        self._call.cancel()
        self._task.cancel()


@pytest.fixture
async def replica(etcd: EtcdProcess) -> AsyncIterator[tuple[SchedulerReplica, ManualClock]]:
    clock = ManualClock()
    rep = SchedulerReplica(SchedulerConfig(port=0, etcd_endpoints=[etcd.endpoint], lease_ttl_s=5,
                                           key_prefix="clocktest"), clock=clock)
    await rep.start()
    try:
        yield rep, clock
    finally:
        await rep.stop()


async def _settle(rep: SchedulerReplica) -> None:
    """Let the informer, engine and counter writer catch up with what just happened (real I/O, no clock move)."""
    for _ in range(50):
        await asyncio.sleep(0.02)
    await rep.writer.flush()


async def _counter(rep: SchedulerReplica, name: str) -> stored_pb2.Counter | None:
    kv = await rep.store.get(rep.keys.counter(f"app||default||clockapp||{name}"))
    return stored_pb2.Counter.FromString(kv.value) if kv else None


async def test_due_time_fires_exactly_when_the_clock_reaches_it(replica: tuple[SchedulerReplica, ManualClock]) -> None:
    rep, clock = replica
    async with grpc.aio.insecure_channel(rep.address) as channel:
        stub = scheduler_pb2_grpc.SchedulerStub(channel)
        await stub.ScheduleJob(pb.ScheduleJobRequest(name="once", job=pb.Job(due_time="10s"), metadata=META))
        sidecar = Sidecar(stub)
        try:
            await _settle(rep)
            clock.advance(10 * S - 1)
            await _settle(rep)
            assert sidecar.triggers.empty(), "fired 1 ns early"
            clock.advance(1)
            trigger = await sidecar.next()
            assert trigger.name == "once"
            await _settle(rep)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.GetJob(pb.GetJobRequest(name="once", metadata=META))
            assert err.value.code() == grpc.StatusCode.NOT_FOUND
        finally:
            sidecar.close()


async def test_missed_ticks_fire_back_to_back_from_the_last_scheduled_time(
        replica: tuple[SchedulerReplica, ManualClock]) -> None:
    rep, clock = replica
    start = clock.now_ns()
    async with grpc.aio.insecure_channel(rep.address) as channel:
        stub = scheduler_pb2_grpc.SchedulerStub(channel)
        await stub.ScheduleJob(pb.ScheduleJobRequest(name="tick", job=pb.Job(schedule="@every 1s", repeats=10),
                                                     metadata=META))
        sidecar = Sidecar(stub)
        try:
            await _settle(rep)
            clock.advance(5 * S + S // 2)  # "downtime": five ticks are now overdue
            for _ in range(5):
                assert (await sidecar.next()).name == "tick"
            await _settle(rep)
            assert sidecar.triggers.empty(), "the sixth tick is not due yet"
            counter = await _counter(rep, "tick")
            assert counter is not None
            assert counter.count == 5
            assert counter.last_trigger.ToNanoseconds() == start + 5 * S  # scheduled, not wall-clock, time
            clock.advance(10 * S)
            for _ in range(5):
                await sidecar.next()
            await _settle(rep)
            assert sidecar.triggers.empty(), "repeats=10 must stop the job"
            assert await _counter(rep, "tick") is None
        finally:
            sidecar.close()


async def test_default_failure_policy_retries_three_times_one_second_apart(
        replica: tuple[SchedulerReplica, ManualClock]) -> None:
    rep, clock = replica
    async with grpc.aio.insecure_channel(rep.address) as channel:
        stub = scheduler_pb2_grpc.SchedulerStub(channel)
        await stub.ScheduleJob(pb.ScheduleJobRequest(name="flaky", job=pb.Job(due_time="1s"), metadata=META))
        sidecar = Sidecar(stub, status=pb.FAILED)
        try:
            await _settle(rep)
            clock.advance(S)
            await sidecar.next()
            for attempt in (1, 2, 3):
                await _settle(rep)
                counter = await _counter(rep, "flaky")
                assert counter is not None and counter.attempts == attempt
                assert sidecar.triggers.empty(), "a retry must wait for its interval"
                clock.advance(S)
                await sidecar.next()
            await _settle(rep)
            clock.advance(10 * S)
            await _settle(rep)
            assert sidecar.triggers.empty(), "4 attempts in total"
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.GetJob(pb.GetJobRequest(name="flaky", metadata=META))
        finally:
            sidecar.close()


async def test_ttl_ends_a_recurring_job(replica: tuple[SchedulerReplica, ManualClock]) -> None:
    rep, clock = replica
    async with grpc.aio.insecure_channel(rep.address) as channel:
        stub = scheduler_pb2_grpc.SchedulerStub(channel)
        await stub.ScheduleJob(pb.ScheduleJobRequest(name="short", job=pb.Job(schedule="@every 2s", ttl="5s"),
                                                     metadata=META))
        sidecar = Sidecar(stub)
        try:
            await _settle(rep)
            clock.advance(60 * S)
            await sidecar.next()  # t+2
            await sidecar.next()  # t+4
            await _settle(rep)
            assert sidecar.triggers.empty(), "t+6 is past the TTL"
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.GetJob(pb.GetJobRequest(name="short", metadata=META))
        finally:
            sidecar.close()

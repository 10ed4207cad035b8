"""What the scheduler's unit tests share: one replica's parts wired on a MemoryStore and a ManualClock, a fake
sidecar stream on the dispatcher, and stored jobs built the way ScheduleJob builds them. No etcd, no gRPC."""

from __future__ import annotations

import asyncio
import random

from daprjobs.core.clock import NS_PER_SECOND, ManualClock
from daprjobs.core.jobfields import copy_job_fields
from daprjobs.core.jobspec import build_stored_job
from daprjobs.core.partition import PartitionTable
from daprjobs.etcd.api import Store
from daprjobs.etcd.keyspace import Keyspace
from daprjobs.proto.scheduler.v1 import scheduler_pb2 as pb
from daprjobs.proto.stored.v1 import stored_pb2
from daprjobs.scheduler.counterwriter import CounterWriter
from daprjobs.scheduler.dispatcher import TriggerDispatcher
from daprjobs.scheduler.engine import Engine
from daprjobs.scheduler.informer import JobInformer
from daprjobs.scheduler.metrics import SchedulerMetrics

S = NS_PER_SECOND
KEYS = Keyspace("unit")
APP = "app"
META = pb.JobMetadata(app_id=APP, namespace="default", target=pb.JobTargetMetadata(job=pb.TargetJob()))


def full_name(name: str) -> str:
    return f"app||default||{APP}||{name}"


def stored_job(job: pb.Job, now_ns: int, partition_id: int | None = None) -> bytes:
    """The StoredJob bytes ScheduleJob would write for ``job`` at ``now_ns``."""
    user = stored_pb2.UserJob()
    copy_job_fields(job, user, dst_data="payload")
    user.metadata.Pack(META)
    pid = random.getrandbits(64) if partition_id is None else partition_id
    return build_stored_job(user, now_ns, pid).SerializeToString()


async def put_job(store: Store, clock: ManualClock, name: str, job: pb.Job, partition_id: int | None = None) -> int:
    """Store a job as ScheduleJob does; returns its revision."""
    return await store.put(KEYS.job(full_name(name)), stored_job(job, clock.now_ns(), partition_id))


async def counter(store: Store, name: str) -> stored_pb2.Counter | None:
    kv = await store.get(KEYS.counter(full_name(name)))
    return stored_pb2.Counter.FromString(kv.value) if kv is not None else None


async def turn(rounds: int = 30) -> None:
    """Let every ready task run: with a MemoryStore nothing waits on I/O, so a few loop turns settle it all."""
    for _ in range(rounds):
        await asyncio.sleep(0)


class FakeSidecar:
    """One WatchJobs stream on a dispatcher: the triggers it receives and the acks it sends."""

    def __init__(self, dispatcher: TriggerDispatcher) -> None:
        self.dispatcher = dispatcher
        self.stream = dispatcher.new_stream(APP, "default", [("app", "default", APP)])
        dispatcher.register(self.stream)

    async def next(self, timeout: float = 2.0) -> pb.WatchJobsResponse:
        message = await asyncio.wait_for(self.stream.outbox.get(), timeout)
        assert message is not None, "the stream was closed"
        return message

    def waiting(self) -> int:
        return self.stream.outbox.qsize()

    def ack(self, message: pb.WatchJobsResponse, status: int = pb.SUCCESS) -> None:
        self.dispatcher.ack(self.stream, message.id, status)

    async def fire_and_ack(self, status: int = pb.SUCCESS) -> pb.WatchJobsResponse:
        message = await self.next()
        self.ack(message, status)
        return message


class UnitReplica:
    """Informer, engine, dispatcher and counter writer of one replica, as SchedulerReplica wires them."""

    def __init__(self, store: Store, clock: ManualClock, replica_id: str = "r1", max_inflight: int = 100) -> None:
        self.store = store
        self.clock = clock
        self.replica_id = replica_id
        self.dispatcher = TriggerDispatcher()
        self.writer = CounterWriter(store, KEYS)
        self.engine = Engine(store, KEYS, clock, self.dispatcher, self.writer, SchedulerMetrics(), replica_id,
                             max_inflight, index=lambda: self.informer.index)
        self.informer = JobInformer(store, KEYS, sink=self.engine)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, own_everything: bool = True) -> None:
        self._tasks = [asyncio.create_task(self.writer.run()), asyncio.create_task(self.informer.run()),
                       asyncio.create_task(self.engine.run())]
        await asyncio.wait_for(self.informer.synced.wait(), 2)
        if own_everything:
            await self.engine.apply_table(PartitionTable(self.replica_id, (self.replica_id,), {}))

    async def settle(self) -> None:
        await turn()
        await asyncio.wait_for(self.writer.flush(), 5)
        await turn()

    async def stop(self) -> None:
        await self.engine.stop_activation()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

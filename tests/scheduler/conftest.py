"""Fixtures for the scheduler tests: for unit tests a ManualClock and a MemoryStore on it (units.py wires a replica
on them); for integration tests replicas in-process or as real `daprjobs scheduler` processes."""

from __future__ import annotations

import itertools
import pathlib
from collections.abc import AsyncIterator, Callable, Iterator

import grpc
import pytest
from daprjobs.core.clock import ManualClock
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.etcd.memory import MemoryStore
from daprjobs.proto.scheduler.v1 import scheduler_pb2_grpc
from daprjobs.scheduler.server import SchedulerReplica

from tests.support.daprjobs_processes import SchedulerProcess
from tests.support.inprocess import scheduler_config, unique_prefix

_ids = itertools.count()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(clock: ManualClock) -> MemoryStore:
    return MemoryStore(clock)


@pytest.fixture
async def start_replica(module_etcd: EtcdProcess) -> AsyncIterator[Callable[..., object]]:
    """Start in-process replicas on the module's etcd; all of one test share a fresh key prefix by default."""
    prefix = unique_prefix()
    started: list[SchedulerReplica] = []

    async def start(replica_id: str | None = None, key_prefix: str | None = None, lease_ttl_s: int = 3,
                    **kwargs: object) -> SchedulerReplica:
        cfg = scheduler_config(module_etcd.endpoint, key_prefix or prefix, free_port(),
                               replica_id=replica_id or f"replica-{next(_ids)}", lease_ttl_s=lease_ttl_s, **kwargs)
        replica = SchedulerReplica(cfg)
        await replica.start()
        started.append(replica)
        return replica

    start.prefix = prefix  # type: ignore[attr-defined]
    yield start
    for replica in reversed(started):
        if replica.ready.is_set():
            await replica.stop()


@pytest.fixture
async def replica(start_replica: Callable[..., object]) -> SchedulerReplica:
    return await start_replica()  # type: ignore[misc,no-any-return]


@pytest.fixture
async def stub(replica: SchedulerReplica) -> AsyncIterator[scheduler_pb2_grpc.SchedulerStub]:
    async with grpc.aio.insecure_channel(replica.address) as channel:
        yield scheduler_pb2_grpc.SchedulerStub(channel)


@pytest.fixture
def replica_processes(tmp_path: pathlib.Path) -> Iterator[Callable[..., SchedulerProcess]]:
    """Start `daprjobs scheduler` subprocesses; every one still alive is killed after the test."""
    procs: list[SchedulerProcess] = []

    def start(replica_id: str, etcd_endpoint: str, key_prefix: str, lease_ttl_s: int = 3,
              extra: list[str] | None = None) -> SchedulerProcess:
        proc = SchedulerProcess(tmp_path, etcd_endpoint, key_prefix, replica_id=replica_id, lease_ttl_s=lease_ttl_s,
                                extra_args=extra or [])
        proc.start()
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.kill()

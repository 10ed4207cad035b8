"""A real scheduler replica and sidecar (every building block) on a background event loop, for the property-based
fuzz tests, which are synchronous (Hypothesis drives them) and talk to them over real sockets.

Guarded jobs are scheduled before fuzzing, far in the future; the fuzzers never name them, and each test reads
their etcd keys before and after to prove that nothing a fuzzed request did changed a stored byte.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.scheduler.server import SchedulerReplica
from daprjobs.sidecar.config import ComponentResource, SidecarConfig
from daprjobs.sidecar.server import Sidecar
from hypothesis import HealthCheck, settings

from tests.support.inprocess import scheduler_config, unique_prefix

T = TypeVar("T")

# `make test`: a few hundred examples in all; `make fuzz` sets DAPRJOBS_FUZZ_EXAMPLES (e.g. 5000 per test).
EXAMPLES = int(os.environ.get("DAPRJOBS_FUZZ_EXAMPLES", "0")) or None
REQUEST_TIMEOUT_S = 10.0
APP_ID = "fuzz-app"
GUARD_PREFIX = "guard-"
GUARD_APP_ID = "fuzz-guarded-app"
GUARD_NAMESPACE = "fuzz-guarded"


def fuzz_settings(bounded_examples: int) -> settings:
    return settings(max_examples=EXAMPLES or bounded_examples, deadline=None, derandomize=EXAMPLES is None,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])


class BackgroundLoop:
    """An event loop on its own thread: the stack lives there; the synchronous tests submit coroutines to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fuzz-stack", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@dataclass
class FuzzStack:
    background: BackgroundLoop
    replica: SchedulerReplica
    sidecar: Sidecar
    guarded: dict[bytes, bytes] | None = None

    def assert_guarded_jobs_unchanged(self) -> None:
        assert self.guarded_jobs() == self.guarded, "a fuzzed request changed a job it did not name"

    @property
    def http(self) -> tuple[str, int]:
        return "127.0.0.1", self.sidecar.http_port

    @property
    def sidecar_grpc(self) -> str:
        return f"127.0.0.1:{self.sidecar.grpc_port}"

    @property
    def scheduler_grpc(self) -> str:
        return self.replica.address

    def guarded_jobs(self) -> dict[bytes, bytes]:
        """Every stored key (job or counter) of the guarded jobs, with its value: must not change while fuzzing."""
        async def read() -> dict[bytes, bytes]:
            found: dict[bytes, bytes] = {}
            prefix = self.replica.keys.jobs_prefix.rsplit(b"/jobs/", 1)[0] + b"/"
            async for _rev, kvs in self.replica.store.range_prefix(prefix):
                for kv in kvs:
                    if GUARD_PREFIX.encode() in kv.key or GUARD_APP_ID.encode() in kv.key:
                        found[bytes(kv.key)] = bytes(kv.value)
            return found
        return self.background.run(read())


def _guard_job(name: str, app_id: str, namespace: str) -> scheduler_pb2.ScheduleJobRequest:
    job = scheduler_pb2.Job(schedule="0 0 0 1 1 *", due_time="2099-01-01T00:00:00Z", repeats=3)
    meta = scheduler_pb2.JobMetadata(app_id=app_id, namespace=namespace,
                                     target=scheduler_pb2.JobTargetMetadata(job=scheduler_pb2.TargetJob()))
    return scheduler_pb2.ScheduleJobRequest(name=name, job=job, metadata=meta)


async def _start(etcd: EtcdProcess) -> tuple[SchedulerReplica, Sidecar]:
    replica = SchedulerReplica(scheduler_config(etcd.endpoint, unique_prefix(), free_port()))
    await replica.start()
    sidecar = Sidecar(SidecarConfig(app_id=APP_ID, dapr_http_port=free_port(), dapr_grpc_port=free_port(),
                                    scheduler_host_addresses=[replica.address], metrics_port=None,
                                    etcd_endpoints=[etcd.endpoint], max_body_size=1 << 20,
                                    resources=[ComponentResource(name="statestore", type="state.in-memory",
                                                                 version="v1", metadata={},
                                                                 source=pathlib.Path("fuzz"))]))
    await sidecar.start()
    async with grpc.aio.insecure_channel(replica.address) as channel:
        stub = scheduler_pb2_grpc.SchedulerStub(channel)
        for i in range(3):
            for app_id, namespace in ((APP_ID, "default"), (GUARD_APP_ID, GUARD_NAMESPACE)):
                await stub.ScheduleJob(_guard_job(f"{GUARD_PREFIX}{i}", app_id, namespace), timeout=10)
    return replica, sidecar


@pytest.fixture(scope="module")
def fuzz_stack(module_etcd: EtcdProcess) -> Iterator[FuzzStack]:
    background = BackgroundLoop()
    replica, sidecar = background.run(_start(module_etcd))
    stack = FuzzStack(background, replica, sidecar)
    stack.guarded = stack.guarded_jobs()
    assert len(stack.guarded) == 6  # counters appear only once a job fires
    try:
        yield stack
    finally:
        background.run(sidecar.stop())
        background.run(replica.stop())
        background.close()

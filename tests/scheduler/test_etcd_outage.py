"""etcd goes away under a running replica: it fences itself (stops triggering), then resumes with nothing lost."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.scheduler.server import SchedulerConfig, SchedulerReplica

from tests.support.waiting import eventually

from .jobrequests import app_meta, due_in, schedule
from .sidecar_client import SidecarClient

pytestmark = pytest.mark.timeout(90)

S = 1_000_000_000
JOBS = 10
REPEATS = 30


async def test_replica_fences_itself_while_etcd_is_away_and_resumes_exactly(etcd: EtcdProcess) -> None:
    lease_ttl = 3
    replica = SchedulerReplica(SchedulerConfig(replica_id="outage-0", port=free_port(),
                                               etcd_endpoints=[etcd.endpoint], key_prefix="outage",
                                               lease_ttl_s=lease_ttl))
    await replica.start()
    client = SidecarClient("app-outage")
    await client.connect(replica.address)
    meta = app_meta("app-outage")
    try:
        async with grpc.aio.insecure_channel(replica.address) as channel:
            stub = scheduler_pb2_grpc.SchedulerStub(channel)
            due, _ = due_in(0.3)
            for i in range(JOBS):
                await schedule(stub, f"j{i}", meta, due_time=due, schedule="@every 200ms", repeats=REPEATS)
            await eventually(lambda: all(len(client.of(f"j{i}")) >= 3 for i in range(JOBS)), 15, "3 ticks each")

            etcd.stop()
            down_ns = time.time_ns()
            assert replica.membership is not None
            # It stops triggering once it cannot have renewed its lease for most of the TTL (before a peer could
            # take its jobs over).
            await eventually(lambda: replica.membership is not None and replica.membership.fenced, lease_ttl * 2,
                             "the replica to fence itself")
            fenced_ns = time.time_ns()
            assert fenced_ns - down_ns < lease_ttl * S
            await asyncio.sleep(0.3)
            quiet_from = time.time_ns()
            await asyncio.sleep(2.0)
            fired_while_fenced = [t for t in client.triggers if t.received_ns > quiet_from]
            assert fired_while_fenced == [], f"{len(fired_while_fenced)} triggers while fenced"

            etcd.start()
            await eventually(lambda: replica.membership is not None and not replica.membership.fenced, 20,
                             "the replica to resume")
            deadline = time.monotonic() + 40
            while (await stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=meta))).jobs:
                assert time.monotonic() < deadline, "jobs did not finish after etcd came back"
                await asyncio.sleep(0.2)
        # Every acked tick was persisted once etcd answered again: nothing repeated, nothing lost.
        counts = client.counts()
        assert counts == {f"j{i}": REPEATS for i in range(JOBS)}, counts
    finally:
        await client.close()
        await replica.stop()


async def test_a_broken_job_watch_resyncs_without_repeating_acked_ticks(etcd: EtcdProcess) -> None:
    """A short outage (well within the lease) breaks the informer's watch; the resync must keep every active job's
    in-memory counter (ahead of etcd while writes wait) and its trigger in flight, or acked ticks fire again."""
    replica = SchedulerReplica(SchedulerConfig(replica_id="blip-0", port=free_port(), etcd_endpoints=[etcd.endpoint],
                                               key_prefix="blip", lease_ttl_s=20))
    await replica.start()
    client = SidecarClient("app-blip")
    await client.connect(replica.address)
    meta = app_meta("app-blip")
    try:
        async with grpc.aio.insecure_channel(replica.address) as channel:
            stub = scheduler_pb2_grpc.SchedulerStub(channel)
            due, _ = due_in(0.3)
            for i in range(JOBS):
                await schedule(stub, f"j{i}", meta, due_time=due, schedule="@every 200ms", repeats=REPEATS)
            await eventually(lambda: all(len(client.of(f"j{i}")) >= 3 for i in range(JOBS)), 15, "3 ticks each")
            etcd.stop()
            await asyncio.sleep(0.5)
            etcd.start()
            deadline = time.monotonic() + 40
            while (await stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=meta))).jobs:
                assert time.monotonic() < deadline, "jobs did not finish after etcd came back"
                await asyncio.sleep(0.2)
        assert replica.membership is not None and not replica.membership.fenced
        counts = client.counts()
        assert counts == {f"j{i}": REPEATS for i in range(JOBS)}, counts
    finally:
        await client.close()
        await replica.stop()


async def test_reconnects_to_etcd_under_load_break_no_loop(etcd: EtcdProcess) -> None:
    """A reconnect (the store drops its channel after a failed call) ends every call in flight on the old channel;
    the API, the informer, the counter writer and the lease keepalive must all treat that as a transient error."""
    replica = SchedulerReplica(SchedulerConfig(replica_id="rotate-0", port=free_port(), etcd_endpoints=[etcd.endpoint],
                                               key_prefix="rotate", lease_ttl_s=2))
    await replica.start()
    client = SidecarClient("app-rotate")
    await client.connect(replica.address)
    meta = app_meta("app-rotate")
    api_errors: list[grpc.StatusCode] = []
    try:
        async with grpc.aio.insecure_channel(replica.address) as channel:
            stub = scheduler_pb2_grpc.SchedulerStub(channel)
            due, _ = due_in(0.2)
            for i in range(JOBS):
                await schedule(stub, f"j{i}", meta, due_time=due, schedule="@every 100ms", repeats=REPEATS)

            async def api_load() -> None:
                for _ in range(60):
                    try:
                        await asyncio.wait_for(stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=meta)), 15)
                    except grpc.aio.AioRpcError as exc:
                        api_errors.append(exc.code())
                    await asyncio.sleep(0.01)

            async def reconnects() -> None:
                for _ in range(60):
                    await replica.store.rotate()
                    await asyncio.sleep(0.02)

            await asyncio.gather(api_load(), api_load(), reconnects())
            # Every loop is still alive: a new job is seen (informer), fired and finished (engine, counter writer).
            await schedule(stub, "after", meta, due_time=due_in(0.1)[0])
            deadline = time.monotonic() + 30
            while (await stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=meta))).jobs:
                assert time.monotonic() < deadline, "jobs did not finish after the reconnects"
                await asyncio.sleep(0.1)
            # The lease is still being renewed (two TTLs later).
            await asyncio.sleep(4)
            assert replica.membership is not None and not replica.membership.fenced
            assert replica.membership.replica_id in replica.membership.members
        counts = client.counts()
        assert counts.pop("after") == 1
        # Acked ticks are never lost; a tick whose counter write was cut off by a reconnect may fire again.
        assert all(REPEATS <= c for c in counts.values()), counts
        assert all(code in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.UNAVAILABLE) for code in api_errors), api_errors
    finally:
        await client.close()
        await replica.stop()

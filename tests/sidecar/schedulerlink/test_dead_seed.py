"""A sidecar seeded with one scheduler replica keeps working when that replica dies (kill -9).

Regression for issue 13, defect 1: WatchHosts was dialled only at the seed and unary calls waited for the
dead replica (``wait_for_ready``), so a third of ``ScheduleJob`` calls hung until DEADLINE_EXCEEDED and the
metadata kept listing the dead replica as connected.
"""

from __future__ import annotations

import asyncio
import pathlib
import signal

import grpc
import pytest
from dapr.proto.runtime.v1 import dapr_pb2_grpc, jobs_pb2
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.sidecar.assembly import jobs_only
from daprjobs.sidecar.config import SidecarConfig
from daprjobs.sidecar.server import Sidecar

from tests.support.daprjobs_processes import SchedulerProcess
from tests.support.inprocess import unique_prefix
from tests.support.waiting import eventually

pytestmark = [pytest.mark.timeout(150), pytest.mark.slow]

# A client deadline well below the sidecar's 30 s scheduler wait: a call stuck on the dead replica fails it.
CALL_DEADLINE_S = 10.0


async def test_dead_seed_neither_hangs_calls_nor_stays_listed(tmp_path: pathlib.Path, etcd: EtcdProcess) -> None:
    prefix = unique_prefix()
    procs = [SchedulerProcess(tmp_path, etcd.endpoint, prefix, replica_id=f"seed-{i}", lease_ttl_s=3).start()
             for i in range(3)]
    sidecar: Sidecar | None = None
    try:
        await asyncio.gather(*(p.wait_ready() for p in procs))
        seed = procs[0]
        sidecar = Sidecar(SidecarConfig(app_id="dead-seed", dapr_http_port=free_port(), dapr_grpc_port=free_port(),
                                        scheduler_host_addresses=[seed.address], metrics_port=None),
                          blocks=jobs_only)
        await sidecar.start()
        everyone = sorted(p.address for p in procs)
        await eventually(lambda: sidecar is not None and sidecar.scheduler.hosts == everyone, 30,
                         what="all three replicas known through the seed")
        seed.signal(signal.SIGKILL)
        seed.wait(10)

        async with grpc.aio.insecure_channel(f"127.0.0.1:{sidecar.grpc_port}") as channel:
            dapr = dapr_pb2_grpc.DaprStub(channel)
            for i in range(6):
                job = jobs_pb2.Job(name=f"after-kill-{i}", due_time="1h")
                await dapr.ScheduleJob(jobs_pb2.ScheduleJobRequest(job=job), timeout=CALL_DEADLINE_S)
            listed = await dapr.ListJobs(jobs_pb2.ListJobsRequest(), timeout=CALL_DEADLINE_S)
        assert sorted(j.name for j in listed.jobs) == [f"after-kill-{i}" for i in range(6)]

        survivors = sorted(p.address for p in procs[1:])
        await eventually(lambda: sidecar is not None and sidecar.scheduler.hosts == survivors, 30,
                         what="the dead seed dropped from the host list (via a live replica's WatchHosts)")
        assert seed.address not in sidecar.metadata().scheduler.connected_addresses
    finally:
        if sidecar is not None:
            await sidecar.stop()
        for proc in procs:
            proc.kill()

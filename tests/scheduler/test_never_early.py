"""No trigger is ever early: every receive time is at or after the tick's due time (lateness is not bounded)."""

from __future__ import annotations

import asyncio
import random

import pytest
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.scheduler.server import SchedulerReplica

from tests.support.waiting import eventually

from .jobrequests import app_meta, due_in, rfc3339, schedule
from .sidecar_client import SidecarClient

pytestmark = pytest.mark.timeout(90)

MS = 1_000_000


async def test_no_trigger_is_ever_early(replica: SchedulerReplica, stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    meta = app_meta("app-early")
    client = SidecarClient("app-early")
    await client.connect(replica.address)
    rng = random.Random(7)
    try:
        _, base = due_in(0.5)
        due: dict[str, int] = {}
        interval: dict[str, int] = {}
        repeats: dict[str, int] = {}
        calls = []
        # 300 one-shot jobs with nanosecond due times spread over 2 s.
        for i in range(300):
            name = f"one-{i}"
            due[name] = base + rng.randrange(0, 2000 * MS)
            repeats[name] = 1
            calls.append(schedule(stub, name, meta, due_time=rfc3339(due[name])))
        # 40 repeating jobs: a due time, then sub-second @every ticks.
        for i in range(40):
            name = f"rep-{i}"
            due[name] = base + rng.randrange(0, 1000 * MS)
            interval[name] = rng.choice([150, 250, 400]) * MS
            repeats[name] = 4
            calls.append(schedule(stub, name, meta, due_time=rfc3339(due[name]),
                                  schedule=f"@every {interval[name] // MS}ms", repeats=4))
        # 20 schedule-only jobs: the first tick is strictly after creation.
        created: dict[str, int] = {}
        for i in range(20):
            name = f"sched-{i}"
            created[name] = due_in(0)[1]
            repeats[name] = 2
            calls.append(schedule(stub, name, meta, schedule="@every 300ms", repeats=2))
        for i in range(0, len(calls), 50):
            await asyncio.gather(*calls[i : i + 50])

        total = sum(repeats.values())
        await eventually(lambda: len(client.triggers) >= total, 30, f"{total} triggers")
        await asyncio.sleep(0.3)
        assert len(client.triggers) == total
        early = []
        for name, count in repeats.items():
            got = sorted(t.received_ns for t in client.of(name))
            assert len(got) == count, name
            for k, received in enumerate(got):
                if name in created:
                    # The server's start time is at or after `created` (read before the call), and tick k is due
                    # (k + 1) intervals after start.
                    due_ns = created[name] + (k + 1) * 300 * MS
                    if received < due_ns:
                        early.append((name, k, received - due_ns))
                    continue
                due_ns = due[name] + k * interval.get(name, 0)
                if received < due_ns:
                    early.append((name, k, received - due_ns))
        assert early == [], f"early triggers (name, tick, ns early): {early[:10]}"
        listed = await stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=meta))
        assert list(listed.jobs) == []
    finally:
        await client.close()

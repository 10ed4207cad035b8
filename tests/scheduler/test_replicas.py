"""Several `daprjobs scheduler` processes on one etcd: split, kill -9 takeover, join, SIGTERM, WatchHosts.

The test sidecar follows WatchHosts and keeps a WatchJobs stream to every live replica, as daprd does, so the
stream a trigger arrives on tells which replica fired it. Jobs use ``repeats`` so that, once they are finished
and deleted, the number of triggers per job is exactly the number of ticks plus any duplicates.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import pytest
from daprjobs.core.partition import slot_of, slot_owners
from daprjobs.etcd.embedded import EtcdProcess
from daprjobs.etcd.keyspace import Keyspace
from daprjobs.etcd.store import EtcdStore
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.proto.stored.v1 import stored_pb2

from tests.support.daprjobs_processes import SchedulerProcess
from tests.support.inprocess import unique_prefix
from tests.support.waiting import eventually

from .jobrequests import app_meta, due_in, rfc3339, schedule
from .sidecar_client import SUCCESS, SidecarClient, Trigger

pytestmark = [pytest.mark.timeout(150), pytest.mark.slow]

S = 1_000_000_000
APP = "app-multi"


async def start_cluster(spawn: Callable[..., SchedulerProcess], etcd: EtcdProcess, ids: list[str],
                        lease_ttl_s: int = 3, prefix: str | None = None) -> list[SchedulerProcess]:
    prefix = prefix or unique_prefix()
    procs = [spawn(rid, etcd.endpoint, prefix, lease_ttl_s) for rid in ids]
    await asyncio.gather(*(p.wait_ready() for p in procs))
    return procs


async def schedule_jobs(address: str, count: int, repeats: int, start_in: float = 1.5) -> int:
    """``count`` jobs ticking every second ``repeats`` times from ``start_in`` s on; returns the first due (ns).

    Their phases are spread over the second, so some job is always about to tick: the first trigger after a
    handover then measures the handover, not the wait for the next tick.
    """
    _, due_ns = due_in(start_in)
    async with grpc.aio.insecure_channel(address) as channel:
        stub = scheduler_pb2_grpc.SchedulerStub(channel)
        await asyncio.gather(*(schedule(stub, f"job-{i:03d}", app_meta(APP), due_time=rfc3339(due_ns + i * S // count),
                                        schedule="@every 1s", repeats=repeats) for i in range(count)))
    return due_ns


async def wait_finished(address: str, timeout: float) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = scheduler_pb2_grpc.SchedulerStub(channel)
        deadline = time.monotonic() + timeout
        while True:
            resp = await stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=app_meta(APP)))
            if not resp.jobs:
                return
            assert time.monotonic() < deadline, f"{len(resp.jobs)} jobs still not finished after {timeout}s"
            await asyncio.sleep(0.2)


def addresses_of(client: SidecarClient, name: str) -> list[str]:
    """The replicas a job's triggers came through, in order, with repeats collapsed."""
    out: list[str] = []
    for t in sorted(client.of(name), key=lambda t: t.received_ns):
        if not out or out[-1] != t.address:
            out.append(t.address)
    return out


async def partition_owners(etcd: EtcdProcess, prefix: str, members: list[str]) -> dict[str, str]:
    """Which member owns each stored job under a view, computed from the stored partition ids."""
    keys = Keyspace(prefix)
    store = EtcdStore([etcd.endpoint])
    owners = slot_owners(members)
    out: dict[str, str] = {}
    try:
        async for _rev, kvs in store.range_prefix(keys.jobs_prefix):
            for kv in kvs:
                stored = stored_pb2.StoredJob.FromString(kv.value)
                out[keys.job_name(kv.key).rsplit("||", 1)[-1]] = owners[slot_of(stored.partition_id)]
    finally:
        await store.close()
    return out


async def test_three_replicas_fire_each_tick_once_and_survive_kill_9(
        module_etcd: EtcdProcess, replica_processes: Callable[..., SchedulerProcess]) -> None:
    jobs, repeats = 60, 12
    procs = await start_cluster(replica_processes, module_etcd, ["kill-a", "kill-b", "kill-c"])
    by_address = {p.address: p for p in procs}
    client = SidecarClient(APP)
    await client.follow_hosts(procs[0].address)
    try:
        await eventually(lambda: len(client.streams) == 3, 15, "a stream to each of 3 replicas")
        # WatchHosts sent the full host list.
        assert sorted(client.hosts_seen[-1]) == sorted(by_address)
        await schedule_jobs(procs[2].address, jobs, repeats)
        names = [f"job-{i:03d}" for i in range(jobs)]
        await eventually(lambda: all(len(client.of(n)) >= 3 for n in names), 30, "3 ticks of every job")

        # Steady state: every job fires through one replica, and all three take a share.
        owner = {}
        for name in names:
            via = addresses_of(client, name)
            assert len(via) == 1, f"{name} fired through several replicas: {via}"
            owner[name] = via[0]
        assert set(owner.values()) == set(by_address), "a replica owns no job"

        victim = procs[1]
        victim_jobs = [n for n in names if owner[n] == victim.address]
        victim.kill()
        killed_ns = time.time_ns()
        await wait_finished(procs[0].address, 60)
        await eventually(lambda: sorted(client.hosts_seen[-1]) == sorted([procs[0].address, procs[2].address]),
                         15, "WatchHosts to drop the killed replica")

        counts = client.counts()
        duplicates = {n: counts[n] - repeats for n in names if counts[n] != repeats}
        # Nothing lost.
        assert all(counts[n] >= repeats for n in names), counts
        # Jobs of the survivors never moved and never doubled.
        for name in names:
            if name not in victim_jobs:
                assert counts[name] == repeats, (name, counts[name])
                assert addresses_of(client, name) == [owner[name]]
        # The victim's jobs went on through exactly one survivor each; at most the tick in flight doubled.
        takeovers = []
        for name in victim_jobs:
            assert counts[name] <= repeats + 1, (name, counts[name])
            via = addresses_of(client, name)
            assert via[0] == victim.address and len(via) == 2 and via[1] != victim.address, (name, via)
            after = [t for t in client.of(name) if t.address != victim.address]
            takeovers.append((min(t.received_ns for t in after) - killed_ns) / S)
        print(f"\nMEASURE kill -9 (lease ttl 3s): victim owned {len(victim_jobs)}/{jobs} jobs; takeover "
              f"first={min(takeovers):.2f}s median={statistics.median(takeovers):.2f}s max={max(takeovers):.2f}s; "
              f"duplicates={sum(duplicates.values())} over {jobs * repeats} ticks ({duplicates})")
    finally:
        await client.close()


def hold_first_trigger_of(client: SidecarClient, name: str) -> list[Trigger]:
    """Leave the first trigger of ``name`` unacked (ack everything else); the list gets it when it comes."""
    held: list[Trigger] = []

    def hold_one(t: Trigger) -> int | None:
        if t.name == name and not held:
            held.append(t)
            return None
        return SUCCESS

    client.ack_policy = hold_one
    return held


@dataclass(frozen=True)
class JoinShares:
    names: list[str]
    moved: list[str]
    before: dict[str, str]
    rid_of: dict[str, str]


def assert_join_window(client: SidecarClient, window: tuple[int, int], shares: JoinShares, held_owner: str,
                       other_owner: str) -> None:
    """During a join held up by one unacked trigger: unmoved jobs keep firing on their owner, the held owner's
    moving jobs wait, and the other owner's moving jobs already fire on the newcomer."""

    def in_window(name: str) -> list[Trigger]:
        return [t for t in client.of(name) if window[0] <= t.received_ns <= window[1]]

    for name in shares.names:
        fired = in_window(name)
        if name not in shares.moved:
            assert fired, f"{name} did not move but stopped firing during the join"
            assert {shares.rid_of[t.address] for t in fired} == {shares.before[name]}
        elif shares.before[name] == held_owner:
            assert not fired, f"{name} fired while its old owner had not let go: {fired}"
        else:
            assert {shares.rid_of[t.address] for t in fired} <= {"join-c"}, name
    other_moved = [n for n in shares.moved if shares.before[n] == other_owner]
    if other_moved:
        assert any(in_window(n) for n in other_moved), "the newcomer took nothing while the other owner was free"


async def test_a_joining_replica_takes_a_share_while_the_others_keep_firing(
        module_etcd: EtcdProcess, replica_processes: Callable[..., SchedulerProcess]) -> None:
    jobs, repeats = 45, 12
    prefix = unique_prefix()
    procs = await start_cluster(replica_processes, module_etcd, ["join-a", "join-b"], prefix=prefix)
    rid_of = {p.address: p.replica_id for p in procs}
    client = SidecarClient(APP)
    await client.follow_hosts(procs[0].address)
    try:
        await eventually(lambda: len(client.streams) == 2, 15, "a stream to each of 2 replicas")
        await schedule_jobs(procs[0].address, jobs, repeats)
        names = [f"job-{i:03d}" for i in range(jobs)]
        before = await partition_owners(module_etcd, prefix, ["join-a", "join-b"])
        after = await partition_owners(module_etcd, prefix, ["join-a", "join-b", "join-c"])
        moved = [n for n in names if before[n] != after[n]]
        assert moved and all(after[n] == "join-c" for n in moved), "rendezvous hashing moved a job between old members"
        # The old owner that gives up the most jobs holds one of them in flight during the join.
        held_owner = max(("join-a", "join-b"), key=lambda r: sum(before[n] == r for n in moved))
        other_owner = "join-b" if held_owner == "join-a" else "join-a"
        held_name = next(n for n in moved if before[n] == held_owner)
        await eventually(lambda: all(len(client.of(n)) >= 2 for n in names), 30, "2 ticks of every job")
        for name in names:
            assert [rid_of[a] for a in addresses_of(client, name)] == [before[name]], name

        held = hold_first_trigger_of(client, held_name)
        await eventually(lambda: bool(held), 10, f"a trigger of {held_name} to hold")

        newcomer = replica_processes("join-c", module_etcd.endpoint, prefix, 3)
        await newcomer.wait_ready()
        rid_of[newcomer.address] = "join-c"
        await eventually(lambda: len(client.streams) == 3, 15, "WatchHosts to announce the newcomer")
        assert sorted(client.hosts_seen[-1]) == sorted(rid_of)
        await asyncio.sleep(0.5)

        # While the held trigger blocks its old owner's handover, everything that does not move keeps firing,
        # the jobs that old owner gives away wait, and the other owner's share has already moved.
        window = (time.time_ns(), time.time_ns() + 3_000_000_000)
        await asyncio.sleep(3.0)
        assert_join_window(client, window, JoinShares(names, moved, before, rid_of), held_owner, other_owner)

        held[0].stream.ack(held[0].id, SUCCESS)
        await wait_finished(procs[0].address, 60)

        counts = client.counts()
        # A join hands over without losing or doubling a tick: the old owner settles before it lets go.
        assert counts == {n: repeats for n in names}, {n: c for n, c in counts.items() if c != repeats}
        for name in names:
            via = [rid_of[a] for a in addresses_of(client, name)]
            assert via == ([before[name], "join-c"] if name in moved else [before[name]]), (name, via)
        print(f"\nMEASURE join: {len(moved)}/{jobs} jobs moved to the newcomer, 0 duplicates, 0 lost")
    finally:
        await client.close()


async def test_sigterm_leaves_at_once(module_etcd: EtcdProcess,
                                      replica_processes: Callable[..., SchedulerProcess]) -> None:
    jobs, repeats, lease_ttl = 30, 8, 20
    procs = await start_cluster(replica_processes, module_etcd, ["term-a", "term-b"], lease_ttl_s=lease_ttl)
    client = SidecarClient(APP)
    await client.follow_hosts(procs[0].address)
    try:
        await eventually(lambda: len(client.streams) == 2, 15, "a stream to each of 2 replicas")
        await schedule_jobs(procs[0].address, jobs, repeats)
        names = [f"job-{i:03d}" for i in range(jobs)]
        await eventually(lambda: all(len(client.of(n)) >= 2 for n in names), 30, "2 ticks of every job")
        leaving = procs[1]
        leaving_jobs = [n for n in names if addresses_of(client, n) == [leaving.address]]
        assert leaving_jobs, "the replica to stop owns no job"
        leaving.terminate()
        term_ns = time.time_ns()
        assert await leaving.wait_exit() == 0
        await eventually(lambda: client.hosts_seen[-1] == [procs[0].address], 10, "WatchHosts to drop it")
        await wait_finished(procs[0].address, 60)

        counts = client.counts()
        # A graceful leave settles in-flight triggers and counters first: nothing doubled, nothing lost.
        assert counts == {n: repeats for n in names}, {n: c for n, c in counts.items() if c != repeats}
        # While stopping, the leaving replica fires nothing new, least of all the survivor's jobs.
        for name in names:
            if name not in leaving_jobs:
                assert addresses_of(client, name) == [procs[0].address], name
        late = [t for t in client.triggers if t.address == leaving.address and t.received_ns > term_ns + S // 2]
        assert late == [], f"the leaving replica still fired after SIGTERM: {late[:3]}"
        takeovers = []
        for name in leaving_jobs:
            assert addresses_of(client, name) == [leaving.address, procs[0].address], name
            first = min(t.received_ns for t in client.of(name) if t.address != leaving.address)
            takeovers.append((first - term_ns) / S)
        # Waiting for the lease would take well over half its TTL; leaving revokes it.
        assert max(takeovers) < lease_ttl / 2, takeovers
        print(f"\nMEASURE SIGTERM (lease ttl {lease_ttl}s): {len(leaving_jobs)}/{jobs} jobs moved; takeover "
              f"first={min(takeovers):.2f}s median={statistics.median(takeovers):.2f}s max={max(takeovers):.2f}s; "
              f"duplicates=0")
    finally:
        await client.close()

"""Ownership alone: two replicas' membership, engine and coordinator on one MemoryStore and a ManualClock.

The coordinator is driven by hand (refresh, then reconcile) instead of by the membership's watch and keepalive
loops, so each step of a handover can be looked at: no job is ever active on two replicas, a replica giving jobs
away waits for their in-flight triggers before it publishes its view, and a dead replica's jobs move when its
lease expires.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from daprjobs.core.clock import ManualClock
from daprjobs.core.partition import slot_of, slot_owners
from daprjobs.etcd.memory import MemoryStore
from daprjobs.proto.scheduler.v1 import scheduler_pb2 as pb
from daprjobs.scheduler.membership import Membership
from daprjobs.scheduler.metrics import SchedulerMetrics
from daprjobs.scheduler.ownership import OwnershipCoordinator

from .units import KEYS, FakeSidecar, S, UnitReplica, full_name, put_job, turn

JOBS = 40
LEASE_TTL_S = 10


@dataclass
class Node:
    replica: UnitReplica
    membership: Membership
    coordinator: OwnershipCoordinator

    def active(self) -> set[str]:
        return set(self.replica.engine.active)


@pytest.fixture
async def partition_ids(store: MemoryStore, clock: ManualClock) -> dict[str, int]:
    rng = random.Random(9)
    ids = {f"job{i}": rng.getrandbits(64) for i in range(JOBS)}
    for name, pid in ids.items():
        await put_job(store, clock, name, pb.Job(schedule="@every 1s"), partition_id=pid)
    return ids


@pytest.fixture
async def nodes(store: MemoryStore, clock: ManualClock) -> AsyncIterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        await node.replica.stop()


async def _join(nodes: list[Node], store: MemoryStore, clock: ManualClock, replica_id: str) -> Node:
    replica = UnitReplica(store, clock, replica_id)
    await replica.start(own_everything=False)
    membership = Membership(store, KEYS, replica_id, f"{replica_id}:50006", LEASE_TTL_S)
    await membership.join()
    node = Node(replica, membership, OwnershipCoordinator(membership, replica.engine, SchedulerMetrics()))
    nodes.append(node)
    return node


async def _reconcile(*nodes: Node) -> None:
    for node in nodes:
        await node.membership.refresh()
        await node.coordinator.reconcile()
        await node.replica.settle()


def _owner(partition_id: int, view: tuple[str, ...]) -> str:
    return slot_owners(view)[slot_of(partition_id)]


async def test_a_lone_replica_publishes_its_view_and_triggers_everything(
        nodes: list[Node], store: MemoryStore, clock: ManualClock, partition_ids: dict[str, int]) -> None:
    a = await _join(nodes, store, clock, "a")
    await _reconcile(a)
    await a.membership.refresh()
    assert a.membership.members["a"].view == ("a",)
    assert a.active() == {full_name(n) for n in partition_ids}
    assert a.coordinator.hosts.addresses == ["a:50006"]


async def test_handover_waits_for_in_flight_triggers_and_never_doubles_a_job(
        nodes: list[Node], store: MemoryStore, clock: ManualClock, partition_ids: dict[str, int]) -> None:
    a = await _join(nodes, store, clock, "a")
    await _reconcile(a)
    sidecar_a = FakeSidecar(a.replica.dispatcher)
    movers = {n for n, pid in partition_ids.items() if _owner(pid, ("a", "b")) == "b"}
    assert 0 < len(movers) < JOBS
    held_name = sorted(movers)[0]
    clock.advance(S)
    held = None
    for _ in range(JOBS):
        trigger = await sidecar_a.next()
        if trigger.name == held_name:
            held = trigger  # in flight across the handover
        else:
            sidecar_a.ack(trigger)
    assert held is not None

    b = await _join(nodes, store, clock, "b")
    await _reconcile(b)
    assert b.active() == set(), "b must not take a slot before a has published that it let go"
    giving_away = asyncio.create_task(_reconcile(a))
    await turn()
    assert not giving_away.done(), "a must wait for the in-flight trigger of a job it gives away"
    await b.membership.refresh()
    assert b.membership.members["a"].view == ("a",), "a publishes its new view only after the ack"
    sidecar_a.ack(held)
    await asyncio.wait_for(giving_away, 5)
    await _reconcile(b)

    assert a.active() & b.active() == set()
    assert a.active() | b.active() == {full_name(n) for n in partition_ids}
    assert b.active() == {full_name(n) for n in movers}
    assert b.replica.engine.active[full_name(held_name)].state.count == 1, "b resumes from a's acked counter"
    sidecar_b = FakeSidecar(b.replica.dispatcher)
    clock.advance(S)
    got_a = {(await sidecar_a.next()).name for _ in range(JOBS - len(movers))}
    got_b = {(await sidecar_b.next()).name for _ in range(len(movers))}
    await turn()
    assert (sidecar_a.waiting(), sidecar_b.waiting()) == (0, 0), "one trigger per job and tick"
    assert got_b == movers and got_a == set(partition_ids) - movers


async def test_a_dead_replicas_jobs_move_when_its_lease_expires(
        nodes: list[Node], store: MemoryStore, clock: ManualClock, partition_ids: dict[str, int]) -> None:
    a = await _join(nodes, store, clock, "a")
    await _reconcile(a)
    clock.advance(LEASE_TTL_S // 2 * S)
    b = await _join(nodes, store, clock, "b")
    await _reconcile(b, a, b)
    assert b.active() and a.active(), "both replicas trigger a share"
    clock.advance(LEASE_TTL_S // 2 * S)  # a (no keepalive: it crashed) reaches its TTL; b has half of its own left
    assert store.expire_leases() == [a.membership._lease]
    await _reconcile(b)
    assert set(b.membership.members) == {"b"}
    assert b.active() == {full_name(n) for n in partition_ids}


async def test_a_fenced_replica_triggers_nothing(
        nodes: list[Node], store: MemoryStore, clock: ManualClock, partition_ids: dict[str, int]) -> None:
    a = await _join(nodes, store, clock, "a")
    await _reconcile(a)
    assert len(a.active()) == JOBS
    a.membership.fenced = True  # what the keepalive loop does when it cannot renew for 60% of the TTL
    await a.coordinator.reconcile()
    assert a.active() == set()

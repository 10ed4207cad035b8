"""The trigger engine alone: a MemoryStore, a ManualClock and a fake sidecar stream; no etcd, no gRPC."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from daprjobs.core.clock import ManualClock
from daprjobs.etcd.api import op_delete
from daprjobs.etcd.memory import MemoryStore
from daprjobs.proto.scheduler.v1 import scheduler_pb2 as pb

from .units import KEYS, FakeSidecar, S, UnitReplica, counter, full_name, put_job


@pytest.fixture
async def replica(store: MemoryStore, clock: ManualClock) -> AsyncIterator[UnitReplica]:
    rep = UnitReplica(store, clock)
    await rep.start()
    yield rep
    await rep.stop()


async def test_a_due_time_fires_at_its_instant_never_before(replica: UnitReplica, store: MemoryStore,
                                                            clock: ManualClock) -> None:
    sidecar = FakeSidecar(replica.dispatcher)
    await put_job(store, clock, "once", pb.Job(due_time="10s"))
    # Due 1 ns earlier: it wakes the trigger loop at the very instant "once" must still wait.
    await put_job(store, clock, "just-before", pb.Job(due_time="9999999999ns"))
    await replica.settle()
    clock.advance(10 * S - 1)
    assert (await sidecar.fire_and_ack()).name == "just-before"
    await replica.settle()
    assert sidecar.waiting() == 0, "fired 1 ns early"
    clock.advance(1)
    trigger = await sidecar.next()
    assert trigger.name == "once"
    sidecar.ack(trigger)
    await replica.settle()
    assert await store.get(KEYS.job(full_name("once"))) is None, "a finished job is deleted"
    assert full_name("once") not in replica.engine.active


async def test_missed_ticks_fire_back_to_back_from_the_last_scheduled_tick(replica: UnitReplica,
                                                                          store: MemoryStore,
                                                                          clock: ManualClock) -> None:
    sidecar = FakeSidecar(replica.dispatcher)
    start = clock.now_ns()
    await put_job(store, clock, "tick", pb.Job(schedule="@every 1s", repeats=10))
    await replica.settle()
    clock.advance(5 * S + S // 2)
    for _ in range(5):
        await sidecar.fire_and_ack()
    await replica.settle()
    assert sidecar.waiting() == 0, "the sixth tick is not due yet"
    stored = await counter(store, "tick")
    assert stored is not None
    assert stored.count == 5
    assert stored.last_trigger.ToNanoseconds() == start + 5 * S, "scheduled time, not wall-clock time"


async def test_catch_up_after_a_replica_was_down(store: MemoryStore, clock: ManualClock) -> None:
    start = clock.now_ns()
    await put_job(store, clock, "tick", pb.Job(schedule="@every 1s", repeats=10))
    first = UnitReplica(store, clock)
    await first.start()
    sidecar = FakeSidecar(first.dispatcher)
    clock.advance(2 * S)
    for _ in range(2):
        await sidecar.fire_and_ack()
    await first.settle()
    await first.stop()

    clock.advance(3 * S)  # down for ticks 3, 4 and 5
    second = UnitReplica(store, clock, replica_id="r2")
    await second.start()
    try:
        sidecar = FakeSidecar(second.dispatcher)
        await second.settle()
        for _ in range(3):
            await sidecar.fire_and_ack()
        await second.settle()
        assert sidecar.waiting() == 0, "ticks 1 and 2 must not fire again"
        stored = await counter(store, "tick")
        assert stored is not None
        assert (stored.count, stored.last_trigger.ToNanoseconds()) == (5, start + 5 * S)
    finally:
        await second.stop()


async def test_failed_triggers_retry_after_the_policy_interval_then_give_up(replica: UnitReplica,
                                                                           store: MemoryStore,
                                                                           clock: ManualClock) -> None:
    sidecar = FakeSidecar(replica.dispatcher)
    await put_job(store, clock, "flaky", pb.Job(due_time="1s"))  # default policy: 1 s x 3 retries
    clock.advance(S)
    await sidecar.fire_and_ack(pb.FAILED)
    for attempt in (1, 2, 3):
        await replica.settle()
        stored = await counter(store, "flaky")
        assert stored is not None and stored.attempts == attempt
        clock.advance(S - 1)
        await replica.settle()
        assert sidecar.waiting() == 0, "a retry must wait for its interval"
        clock.advance(1)
        await sidecar.fire_and_ack(pb.FAILED)
    await replica.settle()
    clock.advance(10 * S)
    await replica.settle()
    assert sidecar.waiting() == 0, "4 attempts in all"
    assert await store.get(KEYS.job(full_name("flaky"))) is None


async def test_a_stale_ack_for_an_overwritten_job_changes_nothing(replica: UnitReplica, store: MemoryStore,
                                                                  clock: ManualClock) -> None:
    sidecar = FakeSidecar(replica.dispatcher)
    await put_job(store, clock, "job", pb.Job(schedule="@every 1s"))
    clock.advance(S)
    old_trigger = await sidecar.next()
    # Overwritten while its trigger is in flight: a new incarnation, due 10 s from now.
    new_rev = await put_job(store, clock, "job", pb.Job(due_time="10s"))
    await replica.settle()
    sidecar.ack(old_trigger)
    await replica.settle()
    assert await counter(store, "job") is None, "the old version's ack must not write a counter"
    active = replica.engine.active[full_name("job")]
    assert active.record.rev == new_rev
    assert active.state.count == 0
    clock.advance(10 * S - 1)
    await replica.settle()
    assert sidecar.waiting() == 0
    clock.advance(1)
    assert (await sidecar.next()).name == "job"


async def test_an_ack_after_a_delete_is_harmless(replica: UnitReplica, store: MemoryStore,
                                                clock: ManualClock) -> None:
    sidecar = FakeSidecar(replica.dispatcher)
    await put_job(store, clock, "gone", pb.Job(schedule="@every 1s"))
    clock.advance(S)
    trigger = await sidecar.next()
    await store.txn([], [op_delete(KEYS.job(full_name("gone")))])
    await replica.settle()
    sidecar.ack(trigger)
    await replica.settle()
    assert await counter(store, "gone") is None
    assert full_name("gone") not in replica.engine.active
    clock.advance(5 * S)
    await replica.settle()
    assert sidecar.waiting() == 0


async def test_a_job_without_a_stream_waits_and_fires_when_one_connects(replica: UnitReplica,
                                                                       store: MemoryStore,
                                                                       clock: ManualClock) -> None:
    await put_job(store, clock, "parked", pb.Job(due_time="1s"))
    clock.advance(5 * S)
    await replica.settle()
    assert replica.engine.staged_count() == 1
    sidecar = FakeSidecar(replica.dispatcher)
    assert (await sidecar.next()).name == "parked"
    assert replica.engine.staged_count() == 0

"""WatchJobs as a sidecar sees it: triggers, acks, failure policies, stream death, routing and staging."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.proto.stored.v1 import stored_pb2
from daprjobs.scheduler.server import SchedulerReplica

from tests.support.waiting import eventually

from .jobrequests import (
    actor_meta,
    app_meta,
    constant_policy,
    drop_policy,
    due_in,
    payload,
    schedule,
)
from .sidecar_client import FAILED, SUCCESS, SidecarClient, Trigger

pytestmark = pytest.mark.timeout(90)

S = 1_000_000_000


async def exists(stub: scheduler_pb2_grpc.SchedulerStub, name: str, meta: scheduler_pb2.JobMetadata) -> bool:
    try:
        await stub.GetJob(scheduler_pb2.GetJobRequest(name=name, metadata=meta))
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return False
        raise
    return True


async def wait_deleted(stub: scheduler_pb2_grpc.SchedulerStub, name: str, meta: scheduler_pb2.JobMetadata,
                       timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while await exists(stub, name, meta):
        if time.monotonic() > deadline:
            raise AssertionError(f"job {name} was not deleted within {timeout}s")
        await asyncio.sleep(0.05)


async def stored_counter(replica: SchedulerReplica, full: str) -> stored_pb2.Counter | None:
    kv = await replica.store.get(replica.keys.counter(full))
    return stored_pb2.Counter.FromString(kv.value) if kv is not None else None


async def test_triggers_carry_per_stream_ids_and_success_finishes_one_shot_jobs(
        replica: SchedulerReplica, stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    meta = app_meta("app-ids")
    first = SidecarClient("app-ids")
    second = SidecarClient("app-ids")
    await first.connect(replica.address)
    await second.connect(replica.address)
    try:
        due, _ = due_in(0.2)
        for i in range(10):
            await schedule(stub, f"one-{i}", meta, due_time=due, data=payload(f"data-{i}"))
        await eventually(lambda: len(first.triggers) + len(second.triggers) >= 10, 15, "10 triggers")
        for client in (first, second):
            ids = [t.id for t in client.triggers]
            # Each stream numbers its own triggers from 1.
            assert ids == list(range(1, len(ids) + 1))
        received = first.triggers + second.triggers
        assert sorted(t.name for t in received) == sorted(f"one-{i}" for i in range(10))
        for t in received:
            assert t.metadata == meta
            assert t.data == payload(f"data-{t.name.split('-')[1]}").SerializeToString()
        for i in range(10):
            await wait_deleted(stub, f"one-{i}", meta)
        assert replica.engine is not None and not replica.engine.active
    finally:
        await first.close()
        await second.close()


async def test_success_acks_advance_the_stored_counter_until_repeats_end(
        replica: SchedulerReplica, stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    meta = app_meta("app-repeat")
    seen_counts: list[int] = []
    full = "app||default||app-repeat||rep"

    client = SidecarClient("app-repeat")
    await client.connect(replica.address)
    try:
        due, due_ns = due_in(0.2)
        await schedule(stub, "rep", meta, schedule="@every 0.3s", repeats=3, due_time=due)
        await eventually(lambda: len(client.triggers) >= 1, 10, "first trigger")
        for expected in (1, 2):
            deadline = time.monotonic() + 10
            while True:
                counter = await stored_counter(replica, full)
                if counter is not None and counter.count >= expected:
                    seen_counts.append(counter.count)
                    break
                assert time.monotonic() < deadline, f"counter never reached {expected}"
                await asyncio.sleep(0.01)
        await wait_deleted(stub, "rep", meta)
        assert await stored_counter(replica, full) is None
        assert len(client.of("rep")) == 3
        for k, t in enumerate(client.of("rep")):
            assert t.received_ns >= due_ns + k * 300_000_000
        assert seen_counts[0] >= 1
    finally:
        await client.close()


async def test_failure_policies(replica: SchedulerReplica, stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    """drop: one attempt per tick; constant: 1 + max_retries attempts, interval apart; default: 1s x 3."""
    meta = app_meta("app-fail")
    client = SidecarClient("app-fail", ack_policy=lambda t: FAILED)
    await client.connect(replica.address)
    try:
        due, due_ns = due_in(0.2)
        await schedule(stub, "drop-once", meta, due_time=due, failure_policy=drop_policy())
        await schedule(stub, "drop-repeat", meta, due_time=due, schedule="@every 0.2s", repeats=3,
                       failure_policy=drop_policy())
        await schedule(stub, "const-2", meta, due_time=due, failure_policy=constant_policy(0.25, 2))
        await schedule(stub, "default", meta, due_time=due)
        for name in ("drop-once", "drop-repeat", "const-2", "default"):
            await wait_deleted(stub, name, meta, timeout=20)
        assert len(client.of("drop-once")) == 1
        assert len(client.of("drop-repeat")) == 3
        const = client.of("const-2")
        assert len(const) == 3
        for k, t in enumerate(const):
            assert t.received_ns >= due_ns + k * 250_000_000, f"retry {k} came early"
        default = client.of("default")
        assert len(default) == 4
        for k, t in enumerate(default):
            assert t.received_ns >= due_ns + k * S, f"default retry {k} came early"
        await asyncio.sleep(0.5)
        assert client.counts() == {"drop-once": 1, "drop-repeat": 3, "const-2": 3, "default": 4}
    finally:
        await client.close()


async def test_failed_attempts_are_persisted_and_success_resets_them(
        replica: SchedulerReplica, stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    meta = app_meta("app-retry")
    full = "app||default||app-retry||flaky"
    fails_left = {"flaky": 2}
    counters_seen: list[tuple[int, int]] = []

    def policy(t: Trigger) -> int:
        if fails_left[t.name] > 0:
            fails_left[t.name] -= 1
            return FAILED
        return SUCCESS

    client = SidecarClient("app-retry", ack_policy=policy)
    await client.connect(replica.address)
    try:
        due, _ = due_in(0.1)
        # Unlimited retries (no max_retries), then a success; a 2-tick schedule so the counter outlives the tick.
        await schedule(stub, "flaky", meta, due_time=due, schedule="@every 2s", repeats=2,
                       failure_policy=constant_policy(0.4, None))
        deadline = time.monotonic() + 15
        while len(client.of("flaky")) < 3:
            counter = await stored_counter(replica, full)
            if counter is not None:
                state = (counter.count, counter.attempts)
                if not counters_seen or counters_seen[-1] != state:
                    counters_seen.append(state)
            assert time.monotonic() < deadline, "flaky never succeeded"
            await asyncio.sleep(0.01)
        deadline = time.monotonic() + 10
        while (await stored_counter(replica, full) or stored_pb2.Counter()).count < 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        final = await stored_counter(replica, full)
        assert final is not None and (final.count, final.attempts) == (1, 0)
        # The failures were written before the success: attempts survive a failover.
        assert (0, 1) in counters_seen or (0, 2) in counters_seen
    finally:
        await client.close()


async def test_unknown_and_duplicate_acks_are_ignored(replica: SchedulerReplica,
                                                      stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    meta = app_meta("app-acks")
    client = SidecarClient("app-acks", ack_policy=lambda t: None)
    stream = await client.connect(replica.address)
    try:
        due, _ = due_in(0.1)
        await schedule(stub, "rep", meta, due_time=due, schedule="@every 0.2s", repeats=3)
        for n in range(1, 4):
            await eventually(lambda n=n: len(client.triggers) >= n, 10, f"trigger {n}")  # type: ignore[misc]
            trigger = client.triggers[n - 1]
            stream.ack(10_000 + n)  # unknown id
            stream.ack(trigger.id, SUCCESS)
            stream.ack(trigger.id, SUCCESS)  # duplicate: must not count a second tick
            stream.ack(trigger.id, FAILED)  # late contradiction: ignored too
        await wait_deleted(stub, "rep", meta)
        await asyncio.sleep(0.3)
        assert len(client.of("rep")) == 3
        # The stream survived all of it.
        await schedule(stub, "after", meta, due_time=due_in(0.05)[0])
        await eventually(lambda: len(client.of("after")) == 1, 10, "trigger after bad acks")
        assert stream.error is None and not stream.ended.is_set()
    finally:
        await client.close()


async def test_triggers_in_flight_on_a_dying_stream_are_redelivered_through_another(
        replica: SchedulerReplica, stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    meta = app_meta("app-die")
    holder = SidecarClient("app-die", ack_policy=lambda t: None)
    await holder.connect(replica.address)
    backup = SidecarClient("app-die")
    try:
        due, _ = due_in(0.1)
        names = [f"j{i}" for i in range(8)]
        for name in names:
            await schedule(stub, name, meta, due_time=due)
        await eventually(lambda: len(holder.triggers) == 8, 10, "8 held triggers")
        # No second stream yet: dying now parks the jobs; they must wait unchanged, then fire on the next stream.
        await holder.close()
        await asyncio.sleep(0.5)
        for name in names:
            assert await exists(stub, name, meta)
        await backup.connect(replica.address)
        await eventually(lambda: len(backup.triggers) == 8, 10, "8 redelivered triggers")
        for name in names:
            await wait_deleted(stub, name, meta)
        assert sorted(t.name for t in backup.triggers) == names

        # With another stream already there, the in-flight triggers move over at once.
        holder2 = SidecarClient("app-die", ack_policy=lambda t: None)
        await holder2.connect(replica.address)
        backup.triggers.clear()
        due, _ = due_in(0.1)
        for name in names:
            await schedule(stub, name, meta, due_time=due)
        await eventually(lambda: len(holder2.triggers) + len(backup.triggers) == 8, 10, "8 triggers")
        held = sorted(t.name for t in holder2.triggers)
        assert held, "round robin gave the holding stream nothing"
        await holder2.close()
        await eventually(lambda: len(backup.triggers) == 8, 10, "held triggers redelivered to the backup")
        for name in names:
            await wait_deleted(stub, name, meta)
        assert sorted(t.name for t in backup.triggers) == names
    finally:
        await backup.close()


async def test_two_streams_of_one_app_are_used_round_robin(replica: SchedulerReplica,
                                                           stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    meta = app_meta("app-rr")
    client = SidecarClient("app-rr")
    a = await client.connect(replica.address)
    b = await client.connect(replica.address)
    try:
        due, _ = due_in(0.3)
        for i in range(20):
            await schedule(stub, f"j{i}", meta, due_time=due)
        await eventually(lambda: len(client.triggers) == 20, 10, "20 triggers")
        assert abs(len(a.received) - len(b.received)) <= 1
        assert len(a.received) + len(b.received) == 20
    finally:
        await client.close()


async def test_a_job_without_a_stream_waits_unchanged_and_fires_when_one_connects(
        replica: SchedulerReplica, stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    meta = app_meta("app-late")
    due, due_ns = due_in(0.1)
    await schedule(stub, "once", meta, due_time=due)
    await schedule(stub, "rep", meta, due_time=due, schedule="@every 0.2s", repeats=3)
    # A stream of another app does not count.
    other = SidecarClient("app-other")
    await other.connect(replica.address)
    await asyncio.sleep(1.0)
    assert other.triggers == []
    for name in ("once", "rep"):
        assert await exists(stub, name, meta)
        assert await stored_counter(replica, f"app||default||app-late||{name}") is None
    client = SidecarClient("app-late")
    connected_ns = time.time_ns()
    await client.connect(replica.address)
    try:
        await wait_deleted(stub, "once", meta)
        await wait_deleted(stub, "rep", meta)
        assert len(client.of("once")) == 1
        # Missed ticks are not skipped: all three fire, in order, after the stream came.
        assert len(client.of("rep")) == 3
        assert all(t.received_ns >= connected_ns for t in client.triggers)
        assert due_ns <= connected_ns
    finally:
        await client.close()
        await other.close()


async def test_actor_reminders_route_by_actor_type(replica: SchedulerReplica,
                                                   stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    carts = SidecarClient("host-a", actor_types=["Cart"])
    orders = SidecarClient("host-b", actor_types=["Order"])
    # Only reminders: must not get host-c's app jobs even though it is host-c.
    reminders_only = SidecarClient("host-c", actor_types=["Invoice"],
                                   accept_job_types=[scheduler_pb2.JOB_TARGET_TYPE_ACTOR_REMINDER])
    jobs_of_c = SidecarClient("host-c")
    for c in (carts, orders, reminders_only, jobs_of_c):
        await c.connect(replica.address)
    try:
        due, _ = due_in(0.1)
        # The scheduling app id does not matter for reminders: the actor type routes them.
        await schedule(stub, "r1", actor_meta("someone-else", "Cart", "c1"), due_time=due, data=payload("c1"))
        await schedule(stub, "r1", actor_meta("host-b", "Order", "o1"), due_time=due)
        await schedule(stub, "r2", actor_meta("host-a", "Order", "o2"), due_time=due)
        await schedule(stub, "inv", actor_meta("host-c", "Invoice", "i1"), due_time=due)
        await schedule(stub, "job", app_meta("host-a"), due_time=due)
        await schedule(stub, "job", app_meta("host-c"), due_time=due)
        await eventually(lambda: len(carts.triggers) == 2 and len(orders.triggers) == 2
                         and len(reminders_only.triggers) == 1 and len(jobs_of_c.triggers) == 1, 10, "routing")
        cart = next(t for t in carts.triggers if t.metadata.target.WhichOneof("type") == "actor")
        assert (cart.name, cart.metadata.target.actor.type, cart.metadata.target.actor.id) == ("r1", "Cart", "c1")
        assert cart.metadata.app_id == "someone-else"
        assert cart.data == payload("c1").SerializeToString()
        assert sorted((t.name, t.metadata.target.actor.id) for t in orders.triggers) == [("r1", "o1"), ("r2", "o2")]
        assert [t.name for t in reminders_only.triggers] == ["inv"]
        assert [(t.name, t.metadata.app_id) for t in jobs_of_c.triggers] == [("job", "host-c")]
        assert sorted(t.name for t in carts.triggers) == ["job", "r1"]
    finally:
        for c in (carts, orders, reminders_only, jobs_of_c):
            await c.close()


async def test_delete_during_a_trigger_makes_the_late_ack_harmless(replica: SchedulerReplica,
                                                                   stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    meta = app_meta("app-race")
    client = SidecarClient("app-race", ack_policy=lambda t: None)
    stream = await client.connect(replica.address)
    try:
        due, _ = due_in(0.1)
        await schedule(stub, "gone", meta, due_time=due, schedule="@every 0.2s", repeats=5)
        await schedule(stub, "over", meta, due_time=due, schedule="@every 0.2s", repeats=5)
        await eventually(lambda: len(client.triggers) == 2, 10, "both triggers held")
        await stub.DeleteJob(scheduler_pb2.DeleteJobRequest(name="gone", metadata=meta))
        far, _ = due_in(3600)
        await schedule(stub, "over", meta, overwrite=True, due_time=far, data=payload("v2"))
        await asyncio.sleep(0.3)
        for t in list(client.triggers):
            stream.ack(t.id, SUCCESS)
        await asyncio.sleep(0.5)
        # Nothing came back to life and the overwritten job kept its new version untouched.
        assert not await exists(stub, "gone", meta)
        assert await stored_counter(replica, "app||default||app-race||gone") is None
        got = await stub.GetJob(scheduler_pb2.GetJobRequest(name="over", metadata=meta))
        assert got.job.data == payload("v2") and not got.job.HasField("schedule")
        assert await stored_counter(replica, "app||default||app-race||over") is None
        assert len(client.triggers) == 2
    finally:
        await client.close()


async def test_ttl_ends_a_repeating_job(replica: SchedulerReplica, stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    meta = app_meta("app-ttl")
    client = SidecarClient("app-ttl")
    await client.connect(replica.address)
    try:
        due, due_ns = due_in(0.2)
        # Expiry is relative to the due time: ticks at +0, +0.2 ... +1.0 s are inside it, +1.2 s is not.
        await schedule(stub, "ttl", meta, due_time=due, schedule="@every 200ms", ttl="1s")
        # A ttl already past (no due time): accepted, then finished without ever firing.
        await schedule(stub, "expired", meta, schedule="@every 200ms", ttl="2000-01-01T00:00:00Z")
        await wait_deleted(stub, "ttl", meta)
        await wait_deleted(stub, "expired", meta)
        await asyncio.sleep(0.5)
        assert client.counts() == {"ttl": 6}
        assert all(t.received_ns >= due_ns + k * 200_000_000 for k, t in enumerate(client.of("ttl")))
    finally:
        await client.close()

"""The job informer alone, on a MemoryStore: the initial sync, watch events in order, and a resync after a break."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from daprjobs.core.clock import ManualClock
from daprjobs.etcd.api import op_delete
from daprjobs.etcd.memory import MemoryStore
from daprjobs.proto.scheduler.v1 import scheduler_pb2 as pb
from daprjobs.scheduler.informer import JobInformer, JobRecord

from .units import KEYS, full_name, put_job, turn


class RecordingSink:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []
        self.syncs: list[dict[str, JobRecord]] = []

    def on_sync(self, index: dict[str, JobRecord]) -> None:
        self.syncs.append(dict(index))
        self.calls.append(("sync", "", len(index)))

    def on_put(self, name: str, record: JobRecord) -> None:
        self.calls.append(("put", name, record.rev))

    def on_delete(self, name: str) -> None:
        self.calls.append(("delete", name, 0))


@pytest.fixture
async def running(store: MemoryStore) -> AsyncIterator[tuple[JobInformer, RecordingSink]]:
    sink = RecordingSink()
    informer = JobInformer(store, KEYS, sink)
    task = asyncio.create_task(informer.run())
    yield informer, sink
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_initial_sync_indexes_every_stored_job(store: MemoryStore, clock: ManualClock) -> None:
    rev_a = await put_job(store, clock, "a", pb.Job(due_time="1s"), partition_id=7)
    await put_job(store, clock, "b", pb.Job(due_time="1s"))
    await store.put(KEYS.counter("a"), b"not a job")
    sink = RecordingSink()
    informer = JobInformer(store, KEYS, sink)
    task = asyncio.create_task(informer.run())
    try:
        await asyncio.wait_for(informer.synced.wait(), 2)
    finally:
        task.cancel()
    assert sorted(informer.index) == [full_name("a"), full_name("b")]
    record = informer.index[full_name("a")]
    assert (record.rev, record.partition_id) == (rev_a, 7)
    assert sink.calls == [("sync", "", 2)]


async def test_changes_after_the_sync_reach_the_sink_in_order(running: tuple[JobInformer, RecordingSink],
                                                              store: MemoryStore, clock: ManualClock) -> None:
    informer, sink = running
    await asyncio.wait_for(informer.synced.wait(), 2)
    rev1 = await put_job(store, clock, "j", pb.Job(due_time="1s"))
    rev2 = await put_job(store, clock, "j", pb.Job(due_time="2s"))
    await store.put(KEYS.job("broken"), b"\xff not a StoredJob")
    await store.txn([], [op_delete(KEYS.job(full_name("j")))])
    await store.put(KEYS.job("never-indexed"), b"\xff")
    await store.txn([], [op_delete(KEYS.job("never-indexed"))])
    await turn()
    j = full_name("j")
    assert sink.calls == [("sync", "", 0), ("put", j, rev1), ("put", j, rev2), ("delete", j, 0)]
    assert informer.index == {}


async def test_a_broken_watch_resyncs_and_misses_nothing(running: tuple[JobInformer, RecordingSink],
                                                         store: MemoryStore, clock: ManualClock) -> None:
    informer, sink = running
    await asyncio.wait_for(informer.synced.wait(), 2)
    await put_job(store, clock, "before", pb.Job(due_time="1s"))
    await turn()
    store.break_watches()
    await turn()
    during = await put_job(store, clock, "during", pb.Job(due_time="1s"))  # written while the watch is down
    for _ in range(100):  # the informer waits 0.5 s before it resyncs
        if len(sink.syncs) == 2:
            break
        await asyncio.sleep(0.02)
    assert len(sink.syncs) == 2
    assert sorted(sink.syncs[1]) == [full_name("before"), full_name("during")]
    assert informer.index[full_name("during")].rev == during
    after = await put_job(store, clock, "after", pb.Job(due_time="1s"))
    await turn()
    assert sink.calls[-1] == ("put", full_name("after"), after), "the new watch follows on from the resync"

"""The counter writer alone, on a MemoryStore: batching, revision guards, completions, and failed writes retried."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from daprjobs.etcd.memory import MemoryStore
from daprjobs.scheduler.counterwriter import CounterWriter

from .units import KEYS


@pytest.fixture
async def writer(store: MemoryStore) -> AsyncIterator[CounterWriter]:
    w = CounterWriter(store, KEYS, max_txn_ops=128)
    task = asyncio.create_task(w.run())
    yield w
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _jobs(store: MemoryStore, *names: str) -> dict[str, int]:
    return {name: await store.put(KEYS.job(name), b"job") for name in names}


async def _value(store: MemoryStore, key: bytes) -> bytes | None:
    kv = await store.get(key)
    return kv.value if kv is not None else None


async def _flush(writer: CounterWriter) -> None:
    await asyncio.sleep(0)
    await asyncio.wait_for(writer.flush(), 5)


async def test_results_queued_together_share_one_transaction(store: MemoryStore, writer: CounterWriter) -> None:
    revs = await _jobs(store, *(f"j{i}" for i in range(10)))
    for name, rev in revs.items():
        writer.put_counter(name, rev, name.encode())
    await _flush(writer)
    assert writer.transactions == 1
    assert [await _value(store, KEYS.counter(n)) for n in revs] == [n.encode() for n in revs]


async def test_a_batch_is_split_by_the_txn_op_limit(store: MemoryStore) -> None:
    writer = CounterWriter(store, KEYS, max_txn_ops=4)  # two completions per transaction
    task = asyncio.create_task(writer.run())
    try:
        revs = await _jobs(store, "a", "b", "c", "d", "e")
        for name, rev in revs.items():
            writer.finish(name, rev)
        await _flush(writer)
    finally:
        task.cancel()
    assert writer.transactions == 3
    assert await store.get_many([KEYS.job(n) for n in revs]) == {}


async def test_a_write_for_an_older_job_version_is_skipped_and_the_rest_of_its_batch_written(
        store: MemoryStore, writer: CounterWriter) -> None:
    revs = await _jobs(store, "stale", "fresh")
    await store.put(KEYS.job("stale"), b"overwritten")
    writer.put_counter("stale", revs["stale"], b"old-counter")
    writer.put_counter("fresh", revs["fresh"], b"counter")
    await _flush(writer)
    assert await _value(store, KEYS.counter("stale")) is None
    assert await _value(store, KEYS.counter("fresh")) == b"counter"


async def test_finishing_deletes_job_and_counter_but_not_a_rewritten_job(store: MemoryStore,
                                                                         writer: CounterWriter) -> None:
    revs = await _jobs(store, "done", "rewritten")
    for name in revs:
        await store.put(KEYS.counter(name), b"c")
    await store.put(KEYS.job("rewritten"), b"new incarnation")
    writer.finish("done", revs["done"])
    writer.finish("rewritten", revs["rewritten"])
    await _flush(writer)
    assert await _value(store, KEYS.job("done")) is None
    assert await _value(store, KEYS.counter("done")) is None
    assert await _value(store, KEYS.job("rewritten")) == b"new incarnation"
    assert await _value(store, KEYS.counter("rewritten")) == b"c"


async def test_a_failed_write_is_retried_until_it_lands(store: MemoryStore, writer: CounterWriter) -> None:
    revs = await _jobs(store, "j")
    store.fail_next(2, "txn")
    writer.put_counter("j", revs["j"], b"c1")
    await _flush(writer)
    assert await _value(store, KEYS.counter("j")) == b"c1"
    assert store.calls["txn"] == 3


async def test_a_newer_result_supersedes_the_one_being_retried(store: MemoryStore, writer: CounterWriter) -> None:
    revs = await _jobs(store, "j")
    store.fail_next(1, "txn")
    writer.put_counter("j", revs["j"], b"older")
    await asyncio.sleep(0.05)  # the first attempt failed; the writer is backing off
    assert store.calls["txn"] == 1
    writer.put_counter("j", revs["j"], b"newer")
    await _flush(writer)
    assert await _value(store, KEYS.counter("j")) == b"newer"


async def test_a_non_transient_failure_drops_the_batch(store: MemoryStore, writer: CounterWriter) -> None:
    revs = await _jobs(store, "j")
    store.fail_next(1, "txn", error=ValueError("not retryable"))
    writer.put_counter("j", revs["j"], b"c")
    await _flush(writer)
    assert store.calls["txn"] == 1
    assert await _value(store, KEYS.counter("j")) is None
    assert writer.pending() == 0

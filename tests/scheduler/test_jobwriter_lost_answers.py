"""JobWriter when etcd's answer to a write is lost: a create that was applied is not reported as AlreadyExists on
itself, one that was not is written again, and one that cannot be read back says it may have been applied."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from daprjobs.core.clock import ManualClock
from daprjobs.etcd.failures import EtcdUnavailable
from daprjobs.etcd.memory import MemoryStore
from daprjobs.scheduler.jobwriter import JobWriter


@pytest.fixture
async def running() -> AsyncIterator[tuple[MemoryStore, JobWriter]]:
    store = MemoryStore(ManualClock())
    writer = JobWriter(store)
    task = asyncio.create_task(writer.run())
    try:
        yield store, writer
    finally:
        task.cancel()


async def test_an_applied_create_whose_answer_was_lost_succeeds_once(running: tuple[MemoryStore, JobWriter]) -> None:
    store, writer = running
    store.fail_next(1, "txn", applied=True)
    assert await writer.write(b"jobs/a", b"value-a", overwrite=False) is True
    kv = await store.get(b"jobs/a")
    assert kv is not None and kv.value == b"value-a" and kv.version == 1, "written exactly once"


async def test_a_create_that_was_not_applied_is_written_again(running: tuple[MemoryStore, JobWriter]) -> None:
    store, writer = running
    store.fail_next(1, "txn", error=EtcdUnavailable("answer lost (injected)", maybe_applied=True))
    assert await writer.write(b"jobs/b", b"value-b", overwrite=False) is True
    kv = await store.get(b"jobs/b")
    assert kv is not None and kv.value == b"value-b"
    assert store.calls["txn"] == 2


async def test_someone_elses_job_under_the_name_is_still_already_exists(
        running: tuple[MemoryStore, JobWriter]) -> None:
    store, writer = running
    await store.put(b"jobs/c", b"theirs")
    store.fail_next(1, "txn", error=EtcdUnavailable("answer lost (injected)", maybe_applied=True))
    assert await writer.write(b"jobs/c", b"mine", overwrite=False) is False
    kv = await store.get(b"jobs/c")
    assert kv is not None and kv.value == b"theirs"


async def test_a_batch_of_creates_with_a_lost_answer_all_succeed(running: tuple[MemoryStore, JobWriter]) -> None:
    store, writer = running
    store.fail_next(1, "txn", applied=True)
    results = await asyncio.gather(*(writer.write(f"jobs/n{i}".encode(), f"v{i}".encode(), overwrite=False)
                                     for i in range(20)))
    assert results == [True] * 20
    for i in range(20):
        kv = await store.get(f"jobs/n{i}".encode())
        assert kv is not None and kv.value == f"v{i}".encode() and kv.version == 1


async def test_when_etcd_cannot_be_read_back_the_error_says_the_write_may_have_been_applied(
        running: tuple[MemoryStore, JobWriter]) -> None:
    store, writer = running
    store.fail_next(1, "txn", applied=True)
    original_get_many = store.get_many

    async def unreachable(*args: object, **kwargs: object) -> object:
        raise EtcdUnavailable("etcd unavailable (injected): nothing was applied", maybe_applied=False)

    store.get_many = unreachable  # type: ignore[method-assign, assignment]
    with pytest.raises(EtcdUnavailable) as err:
        await writer.write(b"jobs/d", b"value-d", overwrite=False)
    assert err.value.maybe_applied
    store.get_many = original_get_many  # type: ignore[method-assign]
    kv = await store.get(b"jobs/d")
    assert kv is not None, "the injected failure applied the write, as the error warned it might"


async def test_a_refused_write_reports_nothing_applied(running: tuple[MemoryStore, JobWriter]) -> None:
    store, writer = running
    store.fail_next(1, "txn", error=EtcdUnavailable("etcd unavailable (injected): nothing was applied",
                                                    maybe_applied=False))
    with pytest.raises(EtcdUnavailable) as err:
        await writer.write(b"jobs/e", b"value-e", overwrite=False)
    assert not err.value.maybe_applied
    assert await store.get(b"jobs/e") is None

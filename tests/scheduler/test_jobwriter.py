"""JobWriter: concurrent ScheduleJob writes share etcd transactions without changing create/overwrite semantics."""

from __future__ import annotations

import asyncio

from daprjobs.etcd.embedded import EtcdProcess
from daprjobs.etcd.store import EtcdStore
from daprjobs.scheduler.jobwriter import JobWriter


async def test_batched_creates_keep_create_if_absent_semantics(etcd: EtcdProcess) -> None:
    store = EtcdStore([etcd.endpoint])
    writer = JobWriter(store, max_txn_ops=16)
    task = asyncio.create_task(writer.run())
    try:
        await store.put(b"jw/taken", b"original")
        keys = [f"jw/k{i}".encode() for i in range(100)]
        results = await asyncio.gather(
            *(writer.write(k, b"v", overwrite=False) for k in keys),
            # Three racing creates of one key: exactly one may win.
            *(writer.write(b"jw/race", f"r{i}".encode(), overwrite=False) for i in range(3)),
            writer.write(b"jw/taken", b"clobbered", overwrite=False),
            writer.write(b"jw/upsert", b"u", overwrite=True),
        )
        assert all(results[:100])
        assert sorted(results[100:103]) == [False, False, True]
        assert results[103] is False
        assert results[104] is True
        assert writer.transactions < 100, "writes were not batched"
        taken = await store.get(b"jw/taken")
        assert taken is not None and taken.value == b"original"
        for k in keys:
            assert await store.get(k) is not None
        assert await writer.write(b"jw/upsert", b"u2", overwrite=True)
        upsert = await store.get(b"jw/upsert")
        assert upsert is not None and upsert.value == b"u2"
    finally:
        task.cancel()
        await store.close()

"""Keeps an in-memory index of every stored job, fed by one etcd watch.

A paginated range at revision R, then a watch from R+1. The engine learns of
each change through a sink; it never polls etcd per job. If the watch history
is compacted or the stream breaks, the informer re-ranges and hands the engine a
fresh index to reconcile against.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from daprjobs.etcd.api import Store
from daprjobs.etcd.keyspace import Keyspace
from daprjobs.proto.stored.v1 import stored_pb2

log = logging.getLogger(__name__)


class JobRecord:
    """One stored job version: what the index keeps per job."""

    __slots__ = ("partition_id", "rev", "value")

    def __init__(self, rev: int, partition_id: int, value: bytes) -> None:
        self.rev = rev
        self.partition_id = partition_id
        self.value = value

    @classmethod
    def decode(cls, rev: int, value: bytes) -> JobRecord:
        return cls(rev, stored_pb2.StoredJob.FromString(value).partition_id, value)


class InformerSink(Protocol):
    def on_sync(self, index: dict[str, JobRecord]) -> None: ...
    def on_put(self, name: str, record: JobRecord) -> None: ...
    def on_delete(self, name: str) -> None: ...


class JobInformer:
    def __init__(self, store: Store, keys: Keyspace, sink: InformerSink) -> None:
        self._store = store
        self._keys = keys
        self._sink = sink
        self.index: dict[str, JobRecord] = {}
        self.synced = asyncio.Event()

    async def run(self) -> None:
        while True:
            try:
                revision = await self._sync()
                async for _rev, events in self._store.watch_prefix(self._keys.jobs_prefix, revision + 1):
                    for ev in events:
                        name = self._keys.job_name(ev.kv.key)
                        if ev.is_put:
                            try:
                                record = JobRecord.decode(ev.kv.mod_revision, ev.kv.value)
                            except Exception:
                                log.exception("undecodable stored job ignored job=%s", name)
                                continue
                            self.index[name] = record
                            self._sink.on_put(name, record)
                        elif self.index.pop(name, None) is not None:
                            self._sink.on_delete(name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("job watch failed, resyncing: %s", exc)
                await asyncio.sleep(0.5)

    async def _sync(self) -> int:
        index: dict[str, JobRecord] = {}
        revision = 0
        async for revision, kvs in self._store.range_prefix(self._keys.jobs_prefix):  # noqa: B007 (used after)
            for kv in kvs:
                name = self._keys.job_name(kv.key)
                try:
                    index[name] = JobRecord.decode(kv.mod_revision, kv.value)
                except Exception:
                    log.exception("undecodable stored job ignored job=%s", name)
        # No counters: the engine reads those of the jobs it activates when it activates them, after this
        # replica's own writes (a snapshot read here could predate them).
        self.index = index
        self._sink.on_sync(index)
        self.synced.set()
        log.info("job index synced jobs=%d revision=%d", len(index), revision)
        return revision

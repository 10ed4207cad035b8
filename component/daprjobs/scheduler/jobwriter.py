"""Batched job writes for ScheduleJob.

Each ScheduleJob is one etcd write: create-if-absent, or an upsert with
`overwrite`. Under load, many calls arrive while one etcd transaction is in
flight; they are written together in the next transaction, which cuts the
per-call etcd round trips (and their gRPC client cost in this process) to one
per batch. An idle scheduler still writes a lone call at once.

A batch is all-or-nothing in etcd: when a create finds its key taken, the
transaction fails as a whole, the taken keys are looked up, those calls get
AlreadyExists, and the rest are written again.

A write whose answer was lost (etcd member died mid-call, deadline) may have
been applied. Every stored value is unique (it carries a random 64-bit
partition id and its creation time), so the keys are read back: a key holding
exactly the value written is this write, applied; the others are written
again. That makes a retried create idempotent instead of AlreadyExists on
itself. Only when etcd cannot even be read back does the caller get
``EtcdUnavailable(maybe_applied=True)``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from daprjobs.etcd.api import Store, cmp_absent, op_put
from daprjobs.etcd.failures import EtcdUnavailable

log = logging.getLogger(__name__)

# Read-backs after lost answers, per batch, before the calls are told their write may have been applied.
MAX_READ_BACKS = 3


@dataclass(slots=True)
class _Write:
    key: bytes
    value: bytes
    overwrite: bool
    done: asyncio.Future[bool] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class JobWriter:
    def __init__(self, store: Store, max_txn_ops: int = 128) -> None:
        self._store = store
        self._max_ops = max(1, max_txn_ops)
        self._queue: list[_Write] = []
        self._wake = asyncio.Event()
        self.transactions = 0

    async def write(self, key: bytes, value: bytes, overwrite: bool) -> bool:
        """Store a job; False when it exists and overwrite is off. Raises what etcd raised."""
        item = _Write(key, value, overwrite)
        self._queue.append(item)
        self._wake.set()
        return await item.done

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch = self._take()
                try:
                    await self._write(batch)
                except asyncio.CancelledError:
                    for item in batch:
                        if not item.done.done():
                            item.done.cancel()
                    raise
                except Exception as exc:
                    for item in batch:
                        if not item.done.done():
                            item.done.set_exception(exc)

    def _take(self) -> list[_Write]:
        """Up to max ops, each key at most once (a second write of a key waits for the next batch)."""
        batch: list[_Write] = []
        keys: set[bytes] = set()
        rest: list[_Write] = []
        for item in self._queue:
            if len(batch) < self._max_ops and item.key not in keys:
                batch.append(item)
                keys.add(item.key)
            else:
                rest.append(item)
        self._queue = rest
        return batch

    async def _write(self, batch: list[_Write]) -> None:
        pending = batch
        read_backs = 0
        while pending:
            compares = [cmp_absent(item.key) for item in pending if not item.overwrite]
            try:
                ok, _ = await self._store.txn(compares, [op_put(item.key, item.value) for item in pending])
            except EtcdUnavailable as exc:
                if not exc.maybe_applied or read_backs >= MAX_READ_BACKS:
                    raise
                read_backs += 1
                log.info("job write answer lost, reading back jobs=%d reason=%s", len(pending), exc)
                pending = await self._settle_applied(pending, exc)
                continue
            self.transactions += 1
            if ok:
                for item in pending:
                    item.done.set_result(True)
                return
            creates = [item for item in pending if not item.overwrite]
            taken = await self._store.get_many([item.key for item in creates])
            for item in creates:
                kv = taken.get(item.key)
                if kv is not None:
                    # Our own value: an earlier attempt of this very write was applied.
                    item.done.set_result(kv.value == item.value)
            pending = [item for item in pending if not item.done.done()]

    async def _settle_applied(self, pending: list[_Write], lost: EtcdUnavailable) -> list[_Write]:
        """Resolve the writes whose value is in etcd; returns the rest. If etcd cannot be read, the lost answer's
        error (which says the write may have been applied) is what the callers get."""
        try:
            stored = await self._store.get_many([item.key for item in pending])
        except Exception as exc:
            raise lost from exc
        for item in pending:
            kv = stored.get(item.key)
            if kv is not None and kv.value == item.value:
                item.done.set_result(True)
        return [item for item in pending if not item.done.done()]

"""Batched, guarded counter writes and job completions.

Every trigger result ends in one etcd write: the job's new counter, or (when
the job is finished) the deletion of job and counter. Writing each one alone
would cap triggers/s at etcd's per-transaction latency, so results queue here
and a single loop writes them many per transaction while the previous
transaction is in flight: the busier the scheduler, the larger the batches.

Every write is guarded on the job's mod revision, so an overwrite or delete
that raced with a trigger is never undone by a late counter write. A batch is
all-or-nothing in etcd; when one guard fails, that batch is replayed one
operation per transaction.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from daprjobs.core.backoff import Backoff
from daprjobs.etcd.api import Store, cmp_mod_revision, is_transient, op_delete, op_put
from daprjobs.etcd.keyspace import Keyspace

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    job_rev: int
    counter: bytes | None  # None: the job is finished, delete it and its counter


class CounterWriter:
    def __init__(self, store: Store, keys: Keyspace, max_txn_ops: int = 128) -> None:
        self._store = store
        self._keys = keys
        # A completion uses two operations; keep every batch within etcd's --max-txn-ops.
        self._batch = max(1, max_txn_ops // 2)
        self._pending: dict[str, _Pending] = {}
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.transactions = 0
        self.operations = 0

    def put_counter(self, name: str, job_rev: int, counter: bytes) -> None:
        self._pending[name] = _Pending(job_rev, counter)
        self._idle.clear()
        self._ready.set()

    def finish(self, name: str, job_rev: int) -> None:
        self._pending[name] = _Pending(job_rev, None)
        self._idle.clear()
        self._ready.set()

    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> None:
        """Wait until everything queued so far is written."""
        await self._idle.wait()

    async def run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._pending:
                batch = self._take(self._batch)
                await self._write_with_retry(batch)
            self._idle.set()

    def _take(self, n: int) -> list[tuple[str, _Pending]]:
        batch: list[tuple[str, _Pending]] = []
        for name in list(self._pending)[:n]:
            batch.append((name, self._pending.pop(name)))
        return batch

    async def _write_with_retry(self, batch: list[tuple[str, _Pending]]) -> None:
        backoff = Backoff(base_s=0.2, factor=2.0, maximum_s=5.0, jitter=0.5)
        while True:
            try:
                await self._write(batch)
                return
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("counter batch failed; dropping it (triggers will repeat) ops=%d", len(batch))
                    return
                delay = backoff.next()
                log.warning("etcd unavailable for counter writes, retrying in %.2fs: %s", delay, exc)
                await asyncio.sleep(delay)
                # Newer results for the same jobs supersede what this batch would write.
                batch = [(n, p) for n, p in batch if n not in self._pending]

    async def _write(self, batch: list[tuple[str, _Pending]]) -> None:
        if not batch:
            return
        compares = []
        ops = []
        for name, p in batch:
            job_key = self._keys.job(name)
            compares.append(cmp_mod_revision(job_key, p.job_rev))
            if p.counter is None:
                ops.append(op_delete(job_key))
                ops.append(op_delete(self._keys.counter(name)))
            else:
                ops.append(op_put(self._keys.counter(name), p.counter))
        ok, _ = await self._store.txn(compares, ops)
        self.transactions += 1
        self.operations += len(batch)
        if ok:
            return
        for name, p in batch:
            await self._write_one(name, p)

    async def _write_one(self, name: str, p: _Pending) -> None:
        job_key = self._keys.job(name)
        counter_key = self._keys.counter(name)
        guard = [cmp_mod_revision(job_key, p.job_rev)]
        if p.counter is None:
            # A re-written job is left alone, and so is the counter key: the new incarnation's counter may
            # already be there, and a stale one is ignored anyway (its job_partition_id no longer matches).
            await self._store.txn(guard, [op_delete(job_key), op_delete(counter_key)])
        else:
            ok, _ = await self._store.txn(guard, [op_put(counter_key, p.counter)])
            if not ok:
                log.debug("counter write skipped, job changed during its trigger job=%s", name)
        self.transactions += 1

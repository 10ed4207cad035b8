"""An in-process ``Store`` with the etcd semantics daprjobs relies on, for tests that must not start etcd.

What it keeps of etcd: one revision counter for the whole keyspace, bumped once per write (a transaction's writes
share one revision, a delete that deletes nothing does not bump it); per key its create/mod revision, version and
lease; reads at any past revision (nothing is ever compacted); guarded transactions with etcd's compare rules
(a VALUE compare on a missing key fails); watches that replay from a start revision and then follow, in revision
order, one batch per revision; leases whose expiry deletes their keys in one revision.

What it adds for tests: time comes from an injected ``Clock`` (leases expire when a ManualClock passes their
deadline, at the next call or at ``expire_leases()``), ``fail_next`` makes the next calls raise a transient error
before touching anything (or, with ``applied=True``, after applying a write: an answer lost on its way back), and
``break_watches`` ends every open watch with an error.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aetcd import rpc

from daprjobs.core.clock import NS_PER_SECOND, Clock, SystemClock
from daprjobs.etcd.api import (
    Compare,
    ConnectionReset,
    KeyValue,
    RequestOp,
    Store,
    TxnResponse,
    WatchEvent,
    op_delete,
    op_put,
    prefix_end,
)
from daprjobs.etcd.failures import EtcdUnavailable


class LeaseNotFound(LookupError):
    """etcd's "requested lease not found": a put under, or a revoke of, a lease that does not exist."""


class DuplicateKey(ValueError):
    """etcd's "duplicate key given in txn request": one transaction writes a key twice."""


@dataclass(slots=True)
class _Lease:
    ttl_s: int
    expires_ns: int
    keys: set[bytes] = field(default_factory=set)


@dataclass(eq=False)
class _Watcher:
    start: bytes
    end: bytes
    prev_kv: bool
    queue: asyncio.Queue[tuple[int, list[WatchEvent]] | BaseException] = field(default_factory=asyncio.Queue)

    def select(self, events: list[WatchEvent]) -> list[WatchEvent]:
        return [WatchEvent(ev.is_put, _copy(ev.kv), _copy(ev.prev_kv) if self.prev_kv and ev.prev_kv else None)
                for ev in events if self.start <= ev.kv.key < self.end]


def _copy(kv: KeyValue, keys_only: bool = False) -> KeyValue:
    # Callers get their own messages, as from etcd: mutating one must not change the store.
    out = rpc.KeyValue()
    out.CopyFrom(kv)
    if keys_only:
        out.value = b""
    return out


class MemoryStore:
    """The ``Store`` (daprjobs.etcd.api) in memory. Not thread-safe: one event loop, like the callers."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        # A fresh etcd is at revision 1.
        self.revision = 1
        self._keys: list[bytes] = []  # every key ever written, sorted
        self._versions: dict[bytes, list[tuple[int, KeyValue | None]]] = {}  # (revision, kv or tombstone)
        self._history: list[tuple[int, list[WatchEvent]]] = []
        self._watchers: set[_Watcher] = set()
        self._leases: dict[int, _Lease] = {}
        self._lease_ids = itertools.count(0x694D_0000_0001)
        self._failures = 0
        self._failing: frozenset[str] = frozenset()
        self._error: BaseException | None = None
        self._fail_after_apply = False
        self.calls: collections.Counter[str] = collections.Counter()

    # --- test hooks ----------------------------------------------------------------------------------------

    def fail_next(self, count: int = 1, *operations: str, error: BaseException | None = None,
                  applied: bool = False) -> None:
        """Make the next ``count`` calls of the named operations (of any, when none is named) raise ``error``
        (default: a ConnectionReset, which callers treat as transient) without touching the data. With
        ``applied`` only writes (put, txn) fail, and only after they were applied (default error: an
        ``EtcdUnavailable`` saying the request may have been applied)."""
        self._failures = count
        self._failing = frozenset(operations)
        self._error = error
        self._fail_after_apply = applied

    def break_watches(self, error: BaseException | None = None) -> None:
        """End every open watch with ``error``, as a dropped etcd stream would."""
        for watcher in self._watchers:
            watcher.queue.put_nowait(error or ConnectionReset("watch stream broken (injected)"))

    def expire_leases(self) -> list[int]:
        """Revoke every lease whose TTL ran out on the clock (deleting its keys); returns their ids."""
        now = self._clock.now_ns()
        expired = [lease_id for lease_id, lease in self._leases.items() if lease.expires_ns <= now]
        for lease_id in expired:
            self._end_lease(lease_id)
        return expired

    def _enter(self, operation: str) -> None:
        self.calls[operation] += 1
        # etcd expires leases on its own; here the clock is only looked at when someone calls.
        self.expire_leases()
        if self._failures and not self._fail_after_apply and (not self._failing or operation in self._failing):
            self._failures -= 1
            raise self._error or ConnectionReset(f"{operation} failed (injected)")

    def _exit_write(self, operation: str) -> None:
        if self._failures and self._fail_after_apply and (not self._failing or operation in self._failing):
            self._failures -= 1
            raise self._error or EtcdUnavailable(f"{operation} answer lost (injected): the request may have been "
                                                 "applied", maybe_applied=True)

    # --- connection (nothing to connect to) ----------------------------------------------------------------

    async def connect(self) -> None:
        self._enter("connect")

    async def close(self) -> None:
        self.calls["close"] += 1

    async def rotate(self) -> None:
        self._enter("rotate")

    # --- reads ---------------------------------------------------------------------------------------------

    async def get(self, key: bytes) -> KeyValue | None:
        self._enter("get")
        kv = self._at(key, self.revision)
        return _copy(kv) if kv is not None else None

    async def get_many(self, keys: Sequence[bytes], chunk: int = 128) -> dict[bytes, KeyValue]:
        self._enter("get_many")
        return {key: _copy(kv) for key in keys if (kv := self._at(key, self.revision)) is not None}

    async def range_prefix(self, prefix: bytes, page: int = 10_000, revision: int = 0,
                           keys_only: bool = False) -> AsyncIterator[tuple[int, list[KeyValue]]]:
        self._enter("range_prefix")
        if revision > self.revision:
            raise ValueError(f"mvcc: required revision {revision} is a future revision (now {self.revision})")
        revision = revision or self.revision
        start, end = prefix, prefix_end(prefix)
        while True:
            kvs, more = self._range(start, end, revision, page, keys_only)
            yield revision, kvs
            if not more or not kvs:
                return
            start = kvs[-1].key + b"\0"
            # Each page is its own round trip against etcd: let writers in between, reads stay pinned.
            await asyncio.sleep(0)

    def _at(self, key: bytes, revision: int) -> KeyValue | None:
        versions = self._versions.get(key)
        if not versions:
            return None
        i = bisect.bisect_right(versions, revision, key=lambda v: v[0])
        return versions[i - 1][1] if i else None

    def _range(self, start: bytes, end: bytes, revision: int, limit: int,
               keys_only: bool) -> tuple[list[KeyValue], bool]:
        """Live keys in [start, end) at revision, at most ``limit`` (0: no limit), and whether more follow."""
        out: list[KeyValue] = []
        for i in range(bisect.bisect_left(self._keys, start), len(self._keys)):
            key = self._keys[i]
            if end != b"\0" and key >= end:
                break
            kv = self._at(key, revision)
            if kv is None:
                continue
            if limit and len(out) == limit:
                return out, True
            out.append(_copy(kv, keys_only))
        return out, False

    # --- writes --------------------------------------------------------------------------------------------

    async def put(self, key: bytes, value: bytes, lease: int = 0) -> int:
        self._enter("put")
        self._apply([op_put(key, value, lease)])
        self._exit_write("put")
        return self.revision

    async def txn(self, compare: Sequence[Compare], success: Sequence[RequestOp],
                  failure: Sequence[RequestOp] = ()) -> tuple[bool, TxnResponse]:
        self._enter("txn")
        ok = all(self._holds(c) for c in compare)
        resp = self._apply(success if ok else failure)
        self._exit_write("txn")
        return ok, resp

    def _holds(self, c: Compare) -> bool:
        if c.range_end:
            raise NotImplementedError("range compares are not used by daprjobs")
        kv = self._at(c.key, self.revision)
        if kv is None:
            # etcd: a missing key fails every VALUE compare and compares as all-zero otherwise.
            if c.target == rpc.Compare.VALUE:
                return False
            kv = rpc.KeyValue()
        actual, expected = {
            rpc.Compare.VERSION: (kv.version, c.version),
            rpc.Compare.CREATE: (kv.create_revision, c.create_revision),
            rpc.Compare.MOD: (kv.mod_revision, c.mod_revision),
            rpc.Compare.VALUE: (kv.value, c.value),
            rpc.Compare.LEASE: (kv.lease, c.lease),
        }[c.target]
        if c.result == rpc.Compare.EQUAL:
            return bool(actual == expected)
        if c.result == rpc.Compare.NOT_EQUAL:
            return bool(actual != expected)
        if c.result == rpc.Compare.GREATER:
            return bool(actual > expected)
        return bool(actual < expected)

    def _check(self, ops: Sequence[RequestOp]) -> None:
        """Refuse what etcd refuses before anything is applied, so a transaction stays all-or-nothing."""
        written: set[bytes] = set()
        for op in ops:
            kind = op.WhichOneof("request")
            if kind == "request_txn":
                raise NotImplementedError("nested transactions are not used by daprjobs")
            if kind == "request_put":
                if op.request_put.lease and op.request_put.lease not in self._leases:
                    raise LeaseNotFound(f"requested lease not found: {op.request_put.lease:x}")
                if op.request_put.key in written:
                    raise DuplicateKey(f"duplicate key given in txn request: {op.request_put.key!r}")
                written.add(op.request_put.key)

    def _apply(self, ops: Sequence[RequestOp]) -> TxnResponse:
        """Apply ops in order at one new revision (taken only if something changed)."""
        self._check(ops)
        rev = self.revision + 1
        events: list[WatchEvent] = []
        resp = rpc.TxnResponse()
        for op in ops:
            out = resp.responses.add()
            kind = op.WhichOneof("request")
            if kind == "request_put":
                self._put(op.request_put, rev, events)
                out.response_put.SetInParent()
            elif kind == "request_delete_range":
                req = op.request_delete_range
                out.response_delete_range.deleted = self._delete(req.key, req.range_end, rev, events)
            else:
                req = op.request_range
                kvs, more = self._range(req.key, req.range_end or req.key + b"\0", rev, req.limit, req.keys_only)
                out.response_range.kvs.extend(kvs)
                out.response_range.more = more
                out.response_range.count = len(kvs)
        if events:
            self.revision = rev
            self._publish(rev, events)
        resp.header.revision = self.revision
        return resp

    def _put(self, req: rpc.PutRequest, rev: int, events: list[WatchEvent]) -> None:
        prev = self._at(req.key, rev)
        kv = rpc.KeyValue(key=req.key, value=req.value, mod_revision=rev, lease=req.lease,
                          create_revision=prev.create_revision if prev else rev,
                          version=prev.version + 1 if prev else 1)
        self._record(req.key, rev, kv)
        if prev is not None and prev.lease and (lease := self._leases.get(prev.lease)) is not None:
            lease.keys.discard(req.key)
        if req.lease:
            self._leases[req.lease].keys.add(req.key)
        events.append(WatchEvent(True, kv, prev))

    def _delete(self, key: bytes, range_end: bytes, rev: int, events: list[WatchEvent]) -> int:
        if range_end:
            doomed, _ = self._range(key, range_end, rev, 0, False)
        else:
            one = self._at(key, rev)
            doomed = [one] if one is not None else []
        for prev in doomed:
            self._record(prev.key, rev, None)
            if prev.lease and (lease := self._leases.get(prev.lease)) is not None:
                lease.keys.discard(prev.key)
            events.append(WatchEvent(False, rpc.KeyValue(key=prev.key, mod_revision=rev), prev))
        return len(doomed)

    def _record(self, key: bytes, rev: int, kv: KeyValue | None) -> None:
        versions = self._versions.get(key)
        if versions is None:
            versions = self._versions[key] = []
            bisect.insort(self._keys, key)
        if versions and versions[-1][0] == rev:
            versions[-1] = (rev, kv)  # a second change in one transaction (only a delete of what it put)
        else:
            versions.append((rev, kv))

    # --- leases --------------------------------------------------------------------------------------------

    async def grant_lease(self, ttl_s: int) -> int:
        self._enter("grant_lease")
        lease_id = next(self._lease_ids)
        self._leases[lease_id] = _Lease(ttl_s, self._clock.now_ns() + ttl_s * NS_PER_SECOND)
        return lease_id

    async def keepalive_once(self, lease_id: int) -> int:
        self._enter("keepalive_once")
        lease = self._leases.get(lease_id)
        if lease is None:
            return 0
        lease.expires_ns = self._clock.now_ns() + lease.ttl_s * NS_PER_SECOND
        return lease.ttl_s

    async def revoke_lease(self, lease_id: int) -> None:
        self._enter("revoke_lease")
        if lease_id not in self._leases:
            raise LeaseNotFound(f"requested lease not found: {lease_id:x}")
        self._end_lease(lease_id)

    def _end_lease(self, lease_id: int) -> None:
        lease = self._leases.pop(lease_id)
        if lease.keys:
            self._apply([op_delete(key) for key in sorted(lease.keys)])

    # --- watch ---------------------------------------------------------------------------------------------

    async def watch_prefix(self, prefix: bytes, start_revision: int,
                           prev_kv: bool = True) -> AsyncIterator[tuple[int, list[WatchEvent]]]:
        self._enter("watch_prefix")
        watcher = _Watcher(prefix, prefix_end(prefix), prev_kv)
        start_revision = start_revision if start_revision > 0 else self.revision + 1
        # Backlog and subscription are taken with no await in between, so no revision is missed or repeated.
        backlog = [(rev, events) for rev, events in self._history if rev >= start_revision]
        self._watchers.add(watcher)
        try:
            for rev, events in backlog:
                if mine := watcher.select(events):
                    yield rev, mine
            while True:
                item = await watcher.queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._watchers.discard(watcher)

    def _publish(self, rev: int, events: list[WatchEvent]) -> None:
        self._history.append((rev, events))
        for watcher in self._watchers:
            if mine := watcher.select(events):
                watcher.queue.put_nowait((rev, mine))


if TYPE_CHECKING:
    # Nothing runs here: it makes mypy check MemoryStore against the contract it claims.
    _conforms: Store = MemoryStore()

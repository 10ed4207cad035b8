"""The store contract: what the scheduler and the actors need from etcd, independent of how it is reached.

Two implementations satisfy ``Store``: ``EtcdStore`` (etcd over gRPC, daprjobs.etcd.store) and ``MemoryStore``
(in-process, daprjobs.etcd.memory, for unit tests). Both speak etcd's own v3 messages — ``KeyValue`` with its
create/mod revision, version and lease; ``Compare``/``RequestOp`` for guarded transactions — so a caller's
guards mean the same thing against either, and one contract suite (tests/etcd/test_store_contract.py) checks
that they do.

The request builders live here, not in a caller, so no caller ever touches the rpc message layouts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

import aetcd
import grpc
from aetcd import rpc

# etcd's mvccpb.KeyValue (key, value, create_revision, mod_revision, version, lease), Compare, RequestOp and
# TxnResponse. aetcd ships them without type stubs, so these aliases are Any to mypy: they name intent.
KeyValue: TypeAlias = rpc.KeyValue
Compare: TypeAlias = rpc.Compare
RequestOp: TypeAlias = rpc.RequestOp
TxnResponse: TypeAlias = rpc.TxnResponse


@dataclass(slots=True)
class WatchEvent:
    is_put: bool
    kv: KeyValue
    prev_kv: KeyValue | None


class WatchCompacted(RuntimeError):
    """The watch start revision was compacted away: the caller must resync from a fresh range."""


class ConnectionReset(ConnectionError):
    """The channel under a call was closed (a reconnect to etcd): the call may be retried."""


class Store(Protocol):
    """The etcd operations daprjobs makes. Every write returns or carries the etcd revision it created."""

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def rotate(self) -> None:
        """Drop the connection so the next call dials the next endpoint (after a failure)."""
        ...

    async def get(self, key: bytes) -> KeyValue | None: ...

    def range_prefix(self, prefix: bytes, page: int = 10_000, revision: int = 0,
                     keys_only: bool = False) -> AsyncIterator[tuple[int, list[KeyValue]]]:
        """Pages of every key under prefix in key order, all read at one revision: yields (revision, kvs).
        ``revision`` 0 reads at the current revision (and the pages that follow stay pinned to it)."""
        ...

    async def get_many(self, keys: Sequence[bytes], chunk: int = 128) -> dict[bytes, KeyValue]:
        """The keys that exist among ``keys``."""
        ...

    async def put(self, key: bytes, value: bytes, lease: int = 0) -> int:
        """Write one key; returns the new revision."""
        ...

    async def txn(self, compare: Sequence[Compare], success: Sequence[RequestOp],
                  failure: Sequence[RequestOp] = ()) -> tuple[bool, TxnResponse]:
        """All compares hold: apply ``success``, else ``failure``, atomically at one new revision (when it
        writes). Returns whether the compares held, and etcd's TxnResponse (header.revision, responses)."""
        ...

    async def grant_lease(self, ttl_s: int) -> int: ...

    async def keepalive_once(self, lease_id: int) -> int:
        """Refresh a lease; returns the remaining TTL (<= 0 means the lease is gone)."""
        ...

    async def revoke_lease(self, lease_id: int) -> None:
        """End a lease now, deleting every key attached to it."""
        ...

    def watch_prefix(self, prefix: bytes, start_revision: int,
                     prev_kv: bool = True) -> AsyncIterator[tuple[int, list[WatchEvent]]]:
        """Batches of events under prefix from start_revision on, in revision order: yields (header revision,
        events). Raises WatchCompacted if history is gone; any other stream error propagates."""
        ...


def prefix_end(prefix: bytes) -> bytes:
    """The range end that makes [prefix, end) cover every key starting with prefix."""
    end = bytearray(prefix)
    for i in range(len(end) - 1, -1, -1):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    return b"\0"


# --- request builders ---------------------------------------------------------------------------------------

def op_put(key: bytes, value: bytes, lease: int = 0) -> RequestOp:
    return rpc.RequestOp(request_put=rpc.PutRequest(key=key, value=value, lease=lease))


def op_delete(key: bytes, range_end: bytes = b"") -> RequestOp:
    return rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=key, range_end=range_end))


def op_get(key: bytes) -> RequestOp:
    return rpc.RequestOp(request_range=rpc.RangeRequest(key=key))


def cmp_mod_revision(key: bytes, revision: int) -> Compare:
    return rpc.Compare(key=key, result=rpc.Compare.EQUAL, target=rpc.Compare.MOD, mod_revision=revision)


def cmp_absent(key: bytes) -> Compare:
    return rpc.Compare(key=key, result=rpc.Compare.EQUAL, target=rpc.Compare.CREATE, create_revision=0)


def cmp_value(key: bytes, value: bytes) -> Compare:
    return rpc.Compare(key=key, result=rpc.Compare.EQUAL, target=rpc.Compare.VALUE, value=value)


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying: etcd unavailable, leader changes, timeouts, a dropped connection."""
    if isinstance(exc, grpc.aio.AioRpcError):
        return exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                              grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.CANCELLED,
                              grpc.StatusCode.UNKNOWN)
    return isinstance(exc, (asyncio.TimeoutError, ConnectionError, aetcd.exceptions.ClientError))

"""A thin asyncio etcd layer: the handful of etcd calls the scheduler makes.

It wraps an ``aetcd.Client`` (connection, auth) but speaks etcd's raw v3 RPC
messages, because the scheduler needs what aetcd's high-level API lacks:
paginated ranges pinned to a revision, multi-operation guarded transactions,
and one watch stream whose responses arrive as batches of events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from urllib.parse import urlparse

import aetcd
from aetcd import rpc

from daprjobs.etcd.api import (
    Compare,
    ConnectionReset,
    KeyValue,
    RequestOp,
    TxnResponse,
    WatchCompacted,
    WatchEvent,
    cmp_absent,
    cmp_mod_revision,
    cmp_value,
    is_transient,
    op_delete,
    op_get,
    op_put,
    prefix_end,
)

# Callers written before daprjobs.etcd.api existed import these from here.
__all__ = [
    "ConnectionReset", "EtcdStore", "WatchCompacted", "WatchEvent", "cmp_absent", "cmp_mod_revision", "cmp_value",
    "is_transient", "op_delete", "op_put", "prefix_end",
]

log = logging.getLogger(__name__)


def _reraise_cancel(exc: asyncio.CancelledError) -> None:
    """grpc.aio ends calls on a closed channel with CancelledError. Only the caller's own cancellation may
    propagate as such; a reconnect's must look like the transient failure it is, or it kills the caller's loop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise exc
    raise ConnectionReset("etcd call ended by a reconnect") from None


class EtcdStore:
    """The ``Store`` (daprjobs.etcd.api) on a real etcd cluster."""

    def __init__(self, endpoints: Sequence[str], username: str | None = None, password: str | None = None,
                 timeout: float = 10.0) -> None:
        if not endpoints:
            raise ValueError("at least one etcd endpoint is required")
        self._endpoints = [_host_port(e) for e in endpoints]
        self._username = username
        self._password = password
        self._timeout = timeout
        self._client: aetcd.Client | None = None
        self._next_endpoint = 0
        self._lock = asyncio.Lock()

    async def connect(self) -> None:
        async with self._lock:
            if self._client is not None:
                return
            host, port = self._endpoints[self._next_endpoint % len(self._endpoints)]
            self._next_endpoint += 1
            client = aetcd.Client(host=host, port=port, username=self._username, password=self._password,
                                  options={"grpc.max_receive_message_length": 256 * 1024 * 1024,
                                           "grpc.max_send_message_length": 256 * 1024 * 1024})
            await client.connect()
            self._client = client

    async def close(self) -> None:
        async with self._lock:
            client, self._client = self._client, None
        if client is not None:
            await client.close()

    @property
    def _c(self) -> aetcd.Client:
        if self._client is None:
            raise RuntimeError("etcd store is not connected")
        return self._client

    async def rotate(self) -> None:
        """Drop the connection so the next call dials the next endpoint (after a failure)."""
        await self.close()
        await self.connect()

    async def _call(self, method: str, request: object) -> object:
        await self.connect()
        stub = self._c.leasestub if method.startswith("Lease") else self._c.kvstub
        rpc_name = method.removeprefix("Lease") if method.startswith("Lease") else method
        try:
            return await getattr(stub, rpc_name)(request, timeout=self._timeout, metadata=self._c.metadata)
        except asyncio.CancelledError as exc:
            _reraise_cancel(exc)
            raise

    # --- reads -------------------------------------------------------------------------------------------

    async def get(self, key: bytes) -> KeyValue | None:
        resp = await self._call("Range", rpc.RangeRequest(key=key))
        kvs = resp.kvs  # type: ignore[attr-defined]
        return kvs[0] if kvs else None

    async def range_prefix(self, prefix: bytes, page: int = 10_000, revision: int = 0,
                           keys_only: bool = False) -> AsyncIterator[tuple[int, list[KeyValue]]]:
        """Pages of every key under prefix, all read at one revision: yields (revision, kvs).

        No sort options: etcd returns keys in ascending order anyway, and with a sort it ignores ``limit`` and
        reads the whole rest of the range for every page (quadratic: a 1M-job scan went from minutes to seconds).
        Pages are large because etcd also counts the rest of the range on every page.
        """
        start = prefix
        end = prefix_end(prefix)
        while True:
            req = rpc.RangeRequest(key=start, range_end=end, limit=page, revision=revision, keys_only=keys_only)
            resp = await self._call("Range", req)
            if revision == 0:
                revision = resp.header.revision  # type: ignore[attr-defined]
            kvs = list(resp.kvs)  # type: ignore[attr-defined]
            yield revision, kvs
            if not resp.more or not kvs:  # type: ignore[attr-defined]
                return
            start = kvs[-1].key + b"\0"

    async def get_many(self, keys: Sequence[bytes], chunk: int = 128) -> dict[bytes, KeyValue]:
        """Several keys in few round trips (one read-only transaction per chunk)."""
        found: dict[bytes, KeyValue] = {}
        for i in range(0, len(keys), chunk):
            ops = [op_get(k) for k in keys[i : i + chunk]]
            resp = await self._call("Txn", rpc.TxnRequest(success=ops))
            for r in resp.responses:  # type: ignore[attr-defined]
                for kv in r.response_range.kvs:
                    found[kv.key] = kv
        return found

    # --- writes ------------------------------------------------------------------------------------------

    async def put(self, key: bytes, value: bytes, lease: int = 0) -> int:
        resp = await self._call("Put", rpc.PutRequest(key=key, value=value, lease=lease))
        return int(resp.header.revision)  # type: ignore[attr-defined]

    async def txn(self, compare: Sequence[Compare], success: Sequence[RequestOp],
                  failure: Sequence[RequestOp] = ()) -> tuple[bool, TxnResponse]:
        resp = await self._call("Txn", rpc.TxnRequest(compare=compare, success=success, failure=failure))
        return bool(resp.succeeded), resp  # type: ignore[attr-defined]

    async def delete_prefixes(self, prefixes: Sequence[bytes]) -> int:
        ops = [op_delete(p, prefix_end(p)) for p in prefixes]
        _ok, resp = await self.txn([], ops)
        return sum(r.response_delete_range.deleted for r in resp.responses)  # type: ignore[attr-defined]

    # --- leases ------------------------------------------------------------------------------------------

    async def grant_lease(self, ttl_s: int) -> int:
        resp = await self._call("LeaseLeaseGrant", rpc.LeaseGrantRequest(TTL=ttl_s))
        return int(resp.ID)  # type: ignore[attr-defined]

    async def keepalive_once(self, lease_id: int) -> int:
        """Refresh a lease; returns the remaining TTL (<= 0 means the lease is gone)."""
        await self.connect()
        try:
            async for resp in self._c.leasestub.LeaseKeepAlive(
                iter([rpc.LeaseKeepAliveRequest(ID=lease_id)]), timeout=self._timeout, metadata=self._c.metadata
            ):
                return int(resp.TTL)
        except asyncio.CancelledError as exc:
            _reraise_cancel(exc)
        return 0

    async def revoke_lease(self, lease_id: int) -> None:
        await self._call("LeaseLeaseRevoke", rpc.LeaseRevokeRequest(ID=lease_id))

    # --- watch -------------------------------------------------------------------------------------------

    async def watch_prefix(self, prefix: bytes, start_revision: int,
                           prev_kv: bool = True) -> AsyncIterator[tuple[int, list[WatchEvent]]]:
        """Batches of events under prefix from start_revision on: yields (header revision, events).

        Raises WatchCompacted if history is gone; any other stream error propagates.
        """
        await self.connect()
        create = rpc.WatchRequest(create_request=rpc.WatchCreateRequest(
            key=prefix, range_end=prefix_end(prefix), start_revision=start_revision, prev_kv=prev_kv,
            progress_notify=True))
        queue: asyncio.Queue[rpc.WatchRequest | None] = asyncio.Queue()
        queue.put_nowait(create)

        async def requests() -> AsyncIterator[rpc.WatchRequest]:
            while True:
                item = await queue.get()
                if item is None:
                    return
                yield item

        watchstub = rpc.WatchStub(self._c.channel)
        call = watchstub.Watch(requests(), metadata=self._c.metadata)
        try:
            async for resp in _reset_on_cancel(call):
                if resp.compact_revision:
                    raise WatchCompacted(f"watch from revision {start_revision} compacted at {resp.compact_revision}")
                if resp.canceled:
                    raise RuntimeError(f"etcd cancelled the watch: {resp.cancel_reason}")
                if resp.created and not resp.events:
                    continue
                events = [
                    WatchEvent(ev.type == rpc.Event.PUT, ev.kv, ev.prev_kv if ev.HasField("prev_kv") else None)
                    for ev in resp.events
                ]
                yield resp.header.revision, events
        finally:
            queue.put_nowait(None)
            call.cancel()


async def _reset_on_cancel(call: AsyncIterator[rpc.WatchResponse]) -> AsyncIterator[rpc.WatchResponse]:
    try:
        async for resp in call:
            yield resp
    except asyncio.CancelledError as exc:
        _reraise_cancel(exc)


def _host_port(endpoint: str) -> tuple[str, int]:
    if "://" not in endpoint:
        endpoint = "http://" + endpoint
    parsed = urlparse(endpoint)
    return parsed.hostname or "127.0.0.1", parsed.port or 2379

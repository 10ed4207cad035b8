"""A thin asyncio etcd layer: the handful of etcd calls the scheduler makes.

It wraps an ``aetcd.Client`` (connection, auth) but speaks etcd's raw v3 RPC
messages, because the scheduler needs what aetcd's high-level API lacks:
paginated ranges pinned to a revision, multi-operation guarded transactions,
and one watch stream whose responses arrive as batches of events.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Sequence
from urllib.parse import urlparse

import aetcd
import grpc
from aetcd import rpc

from daprjobs.core.backoff import Backoff
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
from daprjobs.etcd.failures import EtcdUnavailable, certainly_not_sent, describe, is_retryable
from daprjobs.etcd.tls_client import EtcdClientTls, etcd_client

# Callers written before daprjobs.etcd.api existed import these from here.
__all__ = [
    "ConnectionReset", "EtcdStore", "EtcdUnavailable", "WatchCompacted", "WatchEvent", "cmp_absent",
    "cmp_mod_revision", "cmp_value", "is_transient", "op_delete", "op_put", "prefix_end",
]

log = logging.getLogger(__name__)

# Long enough for an etcd leader election (about a second) and a few retries; short enough that a caller (a
# sidecar's 30 s deadline, an app's) gets a clean UNAVAILABLE rather than its own timeout.
DEFAULT_CALL_TIMEOUT_S = 5.0


def _reraise_cancel(exc: asyncio.CancelledError) -> None:
    """grpc.aio ends calls on a closed channel with CancelledError. Only the caller's own cancellation may
    propagate as such; a reconnect's must look like the transient failure it is, or it kills the caller's loop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise exc
    raise ConnectionReset("etcd call ended by a reconnect") from None


class EtcdStore:
    """The ``Store`` (daprjobs.etcd.api) on a real etcd cluster.

    Every call is bounded by ``timeout`` (a SIGSTOPped etcd must not hold a caller forever) and, within it,
    retried on the next endpoint when a member is down: reads always, writes only when the request certainly never
    reached etcd (see daprjobs.etcd.failures). A write that may have been applied fails with
    ``EtcdUnavailable(maybe_applied=True)`` so its caller can check before retrying.
    """

    def __init__(self, endpoints: Sequence[str], username: str | None = None, password: str | None = None,
                 timeout: float = DEFAULT_CALL_TIMEOUT_S, *, tls: EtcdClientTls | None = None) -> None:
        if not endpoints:
            raise ValueError("at least one etcd endpoint is required")
        self._endpoints = [_host_port(e) for e in endpoints]
        self._username = username
        self._password = password
        self._tls = tls
        self.timeout = timeout
        self._client: aetcd.Client | None = None
        self._next_endpoint = 0
        self._lock = asyncio.Lock()
        self._rng = random.Random()
        # Channels left by a rotation, closing once their calls in flight are done.
        self._retiring: dict[grpc.aio.Channel, asyncio.Task[None]] = {}

    @property
    def endpoint(self) -> str:
        """The endpoint the current (or next) connection uses."""
        host, port = self._endpoints[(self._next_endpoint - (self._client is not None)) % len(self._endpoints)]
        return f"{host}:{port}"

    async def connect(self) -> None:
        async with self._lock:
            if self._client is not None:
                return
            host, port = self._endpoints[self._next_endpoint % len(self._endpoints)]
            self._next_endpoint += 1
            client = etcd_client(self._tls, host=host, port=port, username=self._username,
                                 password=self._password, timeout=max(1, int(self.timeout)),
                                 options={"grpc.max_receive_message_length": 256 * 1024 * 1024,
                                          "grpc.max_send_message_length": 256 * 1024 * 1024,
                                          # a restarted member is dialled again quickly
                                          "grpc.initial_reconnect_backoff_ms": 100,
                                          "grpc.max_reconnect_backoff_ms": 1000})
            await client.connect()
            self._client = client

    async def close(self) -> None:
        async with self._lock:
            client, self._client = self._client, None
        if client is not None:
            await client.close()
        for channel in list(self._retiring):
            await channel.close(grace=None)

    async def _connected(self) -> aetcd.Client:
        await self.connect()
        client = self._client
        if client is None:
            raise ConnectionReset("etcd store closed during connect")
        return client

    async def rotate(self) -> None:
        """Drop the connection so the next call dials the next endpoint (after a failure)."""
        await self._rotate_from(self._client)
        await self.connect()

    async def _rotate_from(self, failed: aetcd.Client | None) -> None:
        """Move to the next endpoint unless another caller already moved off ``failed`` (many calls fail at once
        when a member dies; each must not advance the rotation again).

        The old channel is closed with a grace period, not at once: its calls in flight end with their own
        outcome (answered, or refused by a dead member) instead of a reset that would make every write in
        flight look as if it may have been applied.
        """
        async with self._lock:
            if self._client is not failed:
                return
            self._client = None
        if failed is not None and failed.channel is not None:
            channel = failed.channel
            self._retiring[channel] = asyncio.create_task(channel.close(grace=self.timeout))
            self._retiring[channel].add_done_callback(lambda _task: self._retiring.pop(channel, None))

    async def _call(self, method: str, request: object, *, replayable: bool) -> object:
        """One unary call, retried on the next endpoint until the deadline when it is safe to repeat."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        retry = Backoff(base_s=0.05, factor=2.0, maximum_s=0.5, jitter=0.3, rng=self._rng)
        while True:
            client: aetcd.Client | None = None
            try:
                client = await self._connected()
                return await _unary(client, method, request, max(0.01, deadline - loop.time()))
            except Exception as exc:
                if not is_retryable(exc):
                    raise
                await self._rotate_from(client)
                may_be_applied = not replayable and not certainly_not_sent(exc)
                delay = retry.next()
                if may_be_applied or loop.time() + delay >= deadline:
                    raise self._unavailable(method, exc, may_be_applied) from None
                log.debug("etcd call retried method=%s endpoint=%s reason=%s", method, self.endpoint, describe(exc))
                await asyncio.sleep(delay)

    def _unavailable(self, method: str, exc: BaseException, maybe_applied: bool) -> EtcdUnavailable:
        endpoints = ",".join(f"{h}:{p}" for h, p in self._endpoints)
        outcome = "the request may have been applied" if maybe_applied else "nothing was applied"
        return EtcdUnavailable(f"etcd unavailable ({describe(exc)}; endpoints {endpoints}; {method}): {outcome}",
                               maybe_applied=maybe_applied)

    # --- reads -------------------------------------------------------------------------------------------

    async def get(self, key: bytes) -> KeyValue | None:
        resp = await self._call("Range", rpc.RangeRequest(key=key), replayable=True)
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
            resp = await self._call("Range", req, replayable=True)
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
            resp = await self._call("Txn", rpc.TxnRequest(success=ops), replayable=True)
            for r in resp.responses:  # type: ignore[attr-defined]
                for kv in r.response_range.kvs:
                    found[kv.key] = kv
        return found

    # --- writes ------------------------------------------------------------------------------------------

    async def put(self, key: bytes, value: bytes, lease: int = 0) -> int:
        resp = await self._call("Put", rpc.PutRequest(key=key, value=value, lease=lease), replayable=False)
        return int(resp.header.revision)  # type: ignore[attr-defined]

    async def txn(self, compare: Sequence[Compare], success: Sequence[RequestOp],
                  failure: Sequence[RequestOp] = ()) -> tuple[bool, TxnResponse]:
        request = rpc.TxnRequest(compare=compare, success=success, failure=failure)
        resp = await self._call("Txn", request, replayable=_repeatable(compare, success, failure))
        return bool(resp.succeeded), resp  # type: ignore[attr-defined]

    async def delete_prefixes(self, prefixes: Sequence[bytes]) -> int:
        ops = [op_delete(p, prefix_end(p)) for p in prefixes]
        _ok, resp = await self.txn([], ops)
        return sum(r.response_delete_range.deleted for r in resp.responses)  # type: ignore[attr-defined]

    # --- leases ------------------------------------------------------------------------------------------

    async def grant_lease(self, ttl_s: int) -> int:
        # A lease granted twice leaves one unused lease, which etcd expires after its TTL: safe to repeat.
        resp = await self._call("LeaseLeaseGrant", rpc.LeaseGrantRequest(TTL=ttl_s), replayable=True)
        return int(resp.ID)  # type: ignore[attr-defined]

    async def keepalive_once(self, lease_id: int) -> int:
        """Refresh a lease; returns the remaining TTL (<= 0 means the lease is gone)."""
        client = await self._connected()
        try:
            async for resp in client.leasestub.LeaseKeepAlive(
                iter([rpc.LeaseKeepAliveRequest(ID=lease_id)]), timeout=self.timeout, metadata=client.metadata
            ):
                return int(resp.TTL)
        except asyncio.CancelledError as exc:
            _reraise_cancel(exc)
        except Exception as exc:
            if is_retryable(exc):
                await self._rotate_from(client)
                raise self._unavailable("LeaseKeepAlive", exc, maybe_applied=False) from None
            raise
        return 0

    async def revoke_lease(self, lease_id: int) -> None:
        await self._call("LeaseLeaseRevoke", rpc.LeaseRevokeRequest(ID=lease_id), replayable=False)

    # --- watch -------------------------------------------------------------------------------------------

    async def watch_prefix(self, prefix: bytes, start_revision: int,
                           prev_kv: bool = True) -> AsyncIterator[tuple[int, list[WatchEvent]]]:
        """Batches of events under prefix from start_revision on: yields (header revision, events).

        Raises WatchCompacted if history is gone; any other stream error propagates.
        """
        client = await self._connected()
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

        watchstub = rpc.WatchStub(client.channel)
        call = watchstub.Watch(requests(), metadata=client.metadata)
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
        except grpc.aio.AioRpcError as exc:
            if is_retryable(exc):
                # The member under the watch is gone: the caller's next watch dials the next endpoint.
                await self._rotate_from(client)
                raise self._unavailable("Watch", exc, maybe_applied=False) from None
            raise
        finally:
            queue.put_nowait(None)
            call.cancel()


async def _reset_on_cancel(call: AsyncIterator[rpc.WatchResponse]) -> AsyncIterator[rpc.WatchResponse]:
    try:
        async for resp in call:
            yield resp
    except asyncio.CancelledError as exc:
        _reraise_cancel(exc)


async def _unary(client: aetcd.Client, method: str, request: object, timeout: float) -> object:
    stub = client.leasestub if method.startswith("Lease") else client.kvstub
    rpc_name = method.removeprefix("Lease") if method.startswith("Lease") else method
    try:
        return await getattr(stub, rpc_name)(request, timeout=timeout, metadata=client.metadata)
    except asyncio.CancelledError as exc:
        _reraise_cancel(exc)
        raise


def _repeatable(compare: Sequence[Compare], *branches: Sequence[RequestOp]) -> bool:
    """A transaction that applying twice leaves as applying once: unguarded reads and deletes."""
    return not compare and all(op.WhichOneof("request") in ("request_range", "request_delete_range")
                               for ops in branches for op in ops)


def _host_port(endpoint: str) -> tuple[str, int]:
    if "://" not in endpoint:
        endpoint = "http://" + endpoint
    parsed = urlparse(endpoint)
    return parsed.hostname or "127.0.0.1", parsed.port or 2379

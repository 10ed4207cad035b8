"""Raw etcd work the bench does without the scheduler: the etcd ceilings, bulk loads and size/scan probes.

Everything goes through etcd's v3 gRPC messages (via aetcd's stubs), the same calls a scheduler makes, so a ceiling
measured here is "what etcd plus a Python asyncio client allow on this machine" for the same operations.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from urllib.parse import urlparse

import aetcd
from aetcd import rpc
from daprjobs.etcd.api import prefix_end

_BIG = 256 * 1024 * 1024


class EtcdDirect:
    def __init__(self, endpoint: str) -> None:
        url = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}")
        self._client = aetcd.Client(host=url.hostname or "127.0.0.1", port=url.port or 2379,
                                    options={"grpc.max_receive_message_length": _BIG,
                                             "grpc.max_send_message_length": _BIG})

    async def __aenter__(self) -> EtcdDirect:
        await self._client.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.close()

    @property
    def _kv(self) -> rpc.KVStub:
        return self._client.kvstub

    async def txn(self, request: rpc.TxnRequest) -> rpc.TxnResponse:
        return await self._kv.Txn(request)

    async def count_prefix(self, prefix: bytes) -> int:
        resp = await self._kv.Range(rpc.RangeRequest(key=prefix, range_end=prefix_end(prefix), count_only=True))
        return int(resp.count)

    async def status(self) -> tuple[int, int]:
        """(db size on disk, db size in use) in bytes."""
        resp = await self._client.maintenancestub.Status(rpc.StatusRequest())
        return int(resp.dbSize), int(resp.dbSizeInUse)

    async def delete_prefix(self, prefix: bytes) -> int:
        resp = await self._kv.DeleteRange(rpc.DeleteRangeRequest(key=prefix, range_end=prefix_end(prefix)))
        return int(resp.deleted)

    async def scan_prefix(self, prefix: bytes, page: int = 1000) -> tuple[int, int, int]:
        """Read every key under ``prefix`` in pages at one revision, as a scheduler's start-up sync does.

        Returns (keys, value bytes, elapsed ns).
        """
        start_ns = time.perf_counter_ns()
        key, end, revision, keys, size = prefix, prefix_end(prefix), 0, 0, 0
        while True:
            resp = await self._kv.Range(rpc.RangeRequest(key=key, range_end=end, limit=page, revision=revision))
            revision = revision or int(resp.header.revision)
            for kv in resp.kvs:
                size += len(kv.value)
            keys += len(resp.kvs)
            if not resp.more or not resp.kvs:
                return keys, size, time.perf_counter_ns() - start_ns
            key = resp.kvs[-1].key + b"\0"

    async def put_all(self, items: Iterable[tuple[bytes, bytes]], batch: int = 1000, concurrency: int = 4) -> int:
        """Write (key, value) pairs, ``batch`` puts per transaction, ``concurrency`` transactions in flight.

        Returns the number of keys written. Used for loading, not for ceilings.
        """
        queue: asyncio.Queue[list[tuple[bytes, bytes]] | None] = asyncio.Queue(maxsize=concurrency * 2)
        written = 0

        async def writer() -> None:
            nonlocal written
            while (chunk := await queue.get()) is not None:
                ops = [rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=v)) for k, v in chunk]
                await self._kv.Txn(rpc.TxnRequest(success=ops))
                written += len(chunk)

        workers = [asyncio.create_task(writer()) for _ in range(concurrency)]
        try:
            chunk: list[tuple[bytes, bytes]] = []
            for item in items:
                chunk.append(item)
                if len(chunk) >= batch:
                    await queue.put(chunk)
                    chunk = []
            if chunk:
                await queue.put(chunk)
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
        return written

    async def mod_revisions(self, prefix: bytes) -> dict[bytes, int]:
        """Each key's mod revision under ``prefix`` (keys only)."""
        out: dict[bytes, int] = {}
        key, end = prefix, prefix_end(prefix)
        while True:
            resp = await self._kv.Range(rpc.RangeRequest(key=key, range_end=end, limit=10000, keys_only=True))
            for kv in resp.kvs:
                out[kv.key] = int(kv.mod_revision)
            if not resp.more or not resp.kvs:
                return out
            key = resp.kvs[-1].key + b"\0"


def create_if_absent(key: bytes, value: bytes) -> rpc.TxnRequest:
    """The scheduler's ScheduleJob write without overwrite: Put only if the key has never been created."""
    compare = rpc.Compare(key=key, target=rpc.Compare.CREATE, result=rpc.Compare.EQUAL, create_revision=0)
    return rpc.TxnRequest(compare=[compare], success=[rpc.RequestOp(request_put=rpc.PutRequest(key=key, value=value))])


def complete_one_shot(job_key: bytes, counter_key: bytes, mod_revision: int) -> rpc.TxnRequest:
    """The write after a one-shot job's successful trigger: delete job and counter if the job is still this
    version, else only the counter (go-etcd-cron's DeleteBothIfOtherHasRevision)."""
    compare = rpc.Compare(key=job_key, target=rpc.Compare.MOD, result=rpc.Compare.EQUAL, mod_revision=mod_revision)
    del_counter = rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=counter_key))
    del_job = rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=job_key))
    return rpc.TxnRequest(compare=[compare], success=[del_counter, del_job], failure=[del_counter])


def complete_many(items: Sequence[tuple[bytes, bytes, int]]) -> rpc.TxnRequest:
    """Many one-shot completions in one flat transaction, as the scheduler's batched counter writer sends them:
    one mod-revision guard per job, then each job's delete and its counter's delete (all or nothing)."""
    compare = [rpc.Compare(key=job, target=rpc.Compare.MOD, result=rpc.Compare.EQUAL, mod_revision=rev)
               for job, _, rev in items]
    ops = []
    for job, counter, _ in items:
        ops.append(rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=job)))
        ops.append(rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=counter)))
    return rpc.TxnRequest(compare=compare, success=ops)

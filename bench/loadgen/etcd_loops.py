"""The etcd ceilings: raw etcd doing the writes the scheduler does, from one Python asyncio client.

``create``: the ScheduleJob write (create-if-absent transaction of a stored job record of the real size), the
register ceiling. ``complete``: the write a one-shot trigger costs once acked (guarded delete of job and counter); with
``batch`` > 1, that many in one flat transaction as the scheduler's batched counter writer does, the trigger ceiling
(b). Records are built before the clock
starts: the ceiling is etcd plus the client, not protobuf encoding.
"""

from __future__ import annotations

from typing import Any

from bench.duedata import DueData
from bench.etcd_direct import EtcdDirect, complete_many, complete_one_shot, create_if_absent
from bench.loadgen.timing import async_loop
from bench.stored import app_job_name, counter_key, job_key, stored_app_job

FAR_FUTURE_NS = 4_102_444_800 * 1_000_000_000  # 2100-01-01


def _records(args: dict[str, Any]) -> list[tuple[bytes, bytes, bytes]]:
    """(job key, counter key, value) for ``count`` jobs named ``<name_prefix><i>`` under ``key_prefix``."""
    key_prefix, ns, app_id = args.get("key_prefix", "bench-ceiling"), "default", args.get("app_id", "bench")
    name_prefix = args.get("name_prefix", "c-")
    out = []
    for i in range(int(args["count"])):
        composed = app_job_name(ns, app_id, f"{name_prefix}{i}")
        value = stored_app_job(ns, app_id, FAR_FUTURE_NS, DueData(FAR_FUTURE_NS).encode())
        out.append((job_key(key_prefix, composed), counter_key(key_prefix, composed), value))
    return out


async def create(args: dict[str, Any]) -> dict[str, Any]:
    records = _records(args)
    concurrency = int(args.get("concurrency", 8))
    async with EtcdDirect(args["endpoint"]) as etcd:
        requests = [create_if_absent(k, v) for k, _, v in records]

        async def op(i: int) -> None:
            resp = await etcd.txn(requests[i])
            if not resp.succeeded:
                raise RuntimeError("key existed")

        timings = await async_loop(len(records), concurrency, op)
        record_bytes = sum(len(v) for _, _, v in records) // max(1, len(records))
    return timings.as_result(concurrency=concurrency, record_bytes=record_bytes)


async def complete(args: dict[str, Any]) -> dict[str, Any]:
    records = _records(args)
    concurrency, batch = int(args.get("concurrency", 8)), int(args.get("batch", 1))
    key_prefix = args.get("key_prefix", "bench-ceiling")
    async with EtcdDirect(args["endpoint"]) as etcd:
        await etcd.put_all(((k, v) for k, _, v in records), batch=1000, concurrency=4)
        revisions = await etcd.mod_revisions(f"{key_prefix}/jobs/".encode())
        items = [(k, c, revisions[k]) for k, c, _ in records]
        if batch <= 1:
            requests = [complete_one_shot(*item) for item in items]
        else:
            requests = [complete_many(items[i : i + batch]) for i in range(0, len(items), batch)]

        async def op(i: int) -> None:
            await etcd.txn(requests[i // batch if batch > 1 else i])

        timings = await async_loop(len(records), concurrency, op, batch=max(1, batch))
        left = await etcd.count_prefix(f"{key_prefix}/jobs/".encode())
    return timings.as_result(concurrency=concurrency, batch=batch, jobs_left=left)

"""Scenario state: save / get through the sidecar's state API on ``state.etcd`` and ``state.redis`` (issue 14).

One sidecar (no app) with two components, ``etcdstore`` (state.etcd) and ``redisstore`` (state.redis), on one
etcd and one redis-server. The bench process calls gRPC ``SaveState`` (one item) N times, then ``GetState`` of the
same N keys, from ``CLIENTS`` concurrent loops on one channel: ops/s, p50/p99 per operation and store.

Ceiling, same run, same loops, same value size: the raw store client on the same server (``EtcdStore`` put/get,
aetcd, for etcd; ``redis.asyncio`` SET/GET for redis). The sidecar's ``state.etcd`` save is a guarded etcd
transaction and its ``state.redis`` save a Lua script keeping an ETag: the ratio is what the state API costs on
top of the plainest write and read of the same bytes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import redis.asyncio as aioredis
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import dapr_pb2_grpc, state_pb2
from daprjobs.components.pubsub.redisserver import RedisServerProcess
from daprjobs.etcd.store import EtcdStore

from bench.report import Figure
from bench.scenario import ScenarioContext
from bench.scenarios.load_loops import drive
from bench.scenarios.redis_child import start_redis

log = logging.getLogger("bench.state")

CLIENTS = 8
APP_ID = "state-bench"
# Component name -> (type, what the raw client does).
STORES = {"etcdstore": ("state.etcd", "aetcd put/get (EtcdStore)"),
          "redisstore": ("state.redis", "redis.asyncio SET/GET")}
VALUE = b'{"watermark": "2026-11-30T10:48:00Z", "sent": [101, 102, 103], "owner": "report-job", "pad": "' \
        + b"x" * 32 + b'"}'

Phase = Callable[[int], Awaitable[object]]


def _resources(ctx: ScenarioContext, etcd_endpoint: str, redis_address: str) -> str:
    directory = ctx.workdir / "resources"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "state.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: etcdstore\nspec:\n  type: state.etcd\n"
        f"  version: v2\n  metadata:\n  - name: endpoints\n    value: {etcd_endpoint.removeprefix('http://')}\n"
        "  - name: keyPrefixPath\n    value: benchstate\n"
        "---\napiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: redisstore\nspec:\n"
        f"  type: state.redis\n  version: v1\n  metadata:\n  - name: redisHost\n    value: \"{redis_address}\"\n"
        "  - name: redisPassword\n    value: \"\"\n")
    return str(directory)


def _key(i: int) -> str:
    return f"key-{i}"


async def _raw_etcd(endpoint: str, count: int) -> dict[str, Any]:
    store = EtcdStore([endpoint])
    await store.connect()
    try:
        await drive("etcd raw warm-up", lambda i: store.put(b"benchraw/warm-up", VALUE), min(count, 50), CLIENTS)
        save = await drive("etcd raw put", lambda i: store.put(f"benchraw/{_key(i)}".encode(), VALUE), count, CLIENTS)
        get = await drive("etcd raw get", lambda i: store.get(f"benchraw/{_key(i)}".encode()), count, CLIENTS)
    finally:
        await store.close()
    return {"save": save, "get": get}


async def _raw_redis(server: RedisServerProcess, count: int) -> dict[str, Any]:
    client = aioredis.Redis(host=server.host, port=server.port, max_connections=CLIENTS * 2)
    try:
        await drive("redis raw warm-up", lambda i: client.set("benchraw||warm-up", VALUE), min(count, 50), CLIENTS)
        save = await drive("redis raw SET", lambda i: client.set(f"benchraw||{_key(i)}", VALUE), count, CLIENTS)
        get = await drive("redis raw GET", lambda i: client.get(f"benchraw||{_key(i)}"), count, CLIENTS)
    finally:
        await client.aclose()
    return {"save": save, "get": get}


async def _via_sidecar(address: str, store: str, count: int) -> dict[str, Any]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = dapr_pb2_grpc.DaprStub(channel)

        async def save(i: int) -> None:
            await stub.SaveState(state_pb2.SaveStateRequest(
                store_name=store, states=[common_pb2.StateItem(key=_key(i), value=VALUE)]), timeout=30)

        async def get(i: int) -> None:
            resp = await stub.GetState(state_pb2.GetStateRequest(store_name=store, key=_key(i)), timeout=30)
            if resp.data != VALUE:
                raise AssertionError(f"GetState {store} {_key(i)} returned {resp.data[:40]!r}")

        await drive(f"{store} warm-up", save, min(count, 50), CLIENTS)
        saved = await drive(f"{store} SaveState via sidecar", save, count, CLIENTS)
        got = await drive(f"{store} GetState via sidecar", get, count, CLIENTS)
    return {"save": saved, "get": got}


def run(ctx: ScenarioContext) -> None:
    count = ctx.count(20_000, 2_000)
    ctx.result.size.update(ops_per_phase=count, clients=CLIENTS, value_bytes=len(VALUE))
    stack = ctx.stack()
    etcd = stack.start_etcd()
    redis = start_redis(ctx)
    resources = ["--resources-path", _resources(ctx, etcd.endpoint, redis.address)]
    sidecar = stack.start_sidecar(APP_ID, 0, "http", extra_args=resources)
    ctx.watch_usage(stack)
    address = f"127.0.0.1:{sidecar.grpc_port}"
    measured: dict[str, dict[str, Any]] = {}
    for store, (kind, _) in STORES.items():
        log.info("state %s (%s): raw client, %d saves and %d gets", store, kind, count, count)
        with ctx.profile(f"{store}-raw", stack):
            raw = asyncio.run(_raw_etcd(etcd.endpoint, count) if kind == "state.etcd" else _raw_redis(redis, count))
        log.info("state %s (%s): through the sidecar", store, kind)
        with ctx.profile(f"{store}-sidecar", stack):
            api = asyncio.run(_via_sidecar(address, store, count))
        measured[store] = {"raw": raw, "sidecar": api}
    ctx.detail("measured", measured)
    _report(ctx, count, measured)


def _report(ctx: ScenarioContext, count: int, measured: dict[str, dict[str, Any]]) -> None:
    r = ctx.result
    for store, (kind, raw_name) in STORES.items():
        raw, api = measured[store]["raw"], measured[store]["sidecar"]
        ceiling = f"{raw_name}, same server, {CLIENTS} in flight"
        for op, verb in (("save", "SaveState"), ("get", "GetState")):
            a, c = api[op], raw[op]
            r.add(Figure(f"{kind} {verb} ops/s", a["rate_per_s"], "1/s", c["rate_per_s"], ceiling))
            r.add(Figure(f"{kind} {verb} p50", a["latency"]["p50_ms"], "ms", c["latency"]["p50_ms"], ceiling))
            r.add(Figure(f"{kind} {verb} p99", a["latency"]["p99_ms"], "ms", c["latency"]["p99_ms"], ceiling))
            if a["failed"] or c["failed"]:
                ctx.note(f"{kind} {verb}: {a['failed']} failed via the sidecar ({a['first_failure']}), "
                         f"{c['failed']} raw ({c['first_failure']})")
        cpu = r.details.get("cpu", {}).get(f"{store}-sidecar", {})
        for name, seconds in cpu.items():
            if name.startswith("sidecar"):
                r.add(Figure(f"{kind} {name} CPU per op", seconds * 1000 / (2 * count), "ms"))

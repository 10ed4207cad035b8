"""pubsub.redis against a real redis-server: the stream layout daprd writes, groups, acks and redelivery."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import redis.asyncio as aioredis
from daprjobs.components.pubsub.protocol import BrokerMessage
from daprjobs.components.pubsub.redis_settings import ComponentMetadataError, parse_settings
from daprjobs.components.pubsub.redis_streams import RedisStreamsPubSub
from daprjobs.components.pubsub.redisserver import RedisServerProcess

FAST = {"processingTimeout": "300ms", "redeliverInterval": "200"}


def make(redis_server: RedisServerProcess, app_id: str = "app", **extra: str) -> RedisStreamsPubSub:
    meta = {"redisHost": redis_server.address, **extra}
    return RedisStreamsPubSub("pubsub", parse_settings("pubsub", meta, app_id, "default"))


def topic() -> str:
    return "t-" + uuid.uuid4().hex[:8]


def test_settings_defaults_and_units() -> None:
    s = parse_settings("ps", {"redisHost": "h:6379"}, "myapp", "default")
    assert (s.consumer_id, s.processing_timeout_s, s.redeliver_interval_s, s.queue_depth, s.concurrency) == (
        "myapp", 60.0, 15.0, 100, 10)
    s = parse_settings("ps", {"redisHost": "h:1", "processingTimeout": "1500", "redeliverInterval": "2m",
                              "consumerID": "{appID}-{namespace}"}, "a", "ns")
    assert (s.processing_timeout_s, s.redeliver_interval_s, s.consumer_id) == (1.5, 120.0, "a-ns")
    with pytest.raises(ComponentMetadataError, match="redisHost"):
        parse_settings("ps", {}, "a", "ns")
    with pytest.raises(ComponentMetadataError, match="processingTimeout"):
        parse_settings("ps", {"redisHost": "h:1", "processingTimeout": "soon"}, "a", "ns")


async def test_publish_writes_daprd_layout(module_redis: RedisServerProcess) -> None:
    component = make(module_redis, maxLenApprox="1000")
    await component.init()
    name = topic()
    try:
        await component.publish(name, b'{"a":1}', {"k": "v"})
        raw = aioredis.Redis(host=module_redis.host, port=module_redis.port)
        entries = await raw.xrange(name)
        await raw.aclose()
    finally:
        await component.close()
    assert len(entries) == 1
    fields = entries[0][1]
    assert fields[b"data"] == b'{"a":1}'
    assert json.loads(fields[b"metadata"]) == {"k": "v"}


async def test_group_starts_at_zero_and_acks_only_on_true(module_redis: RedisServerProcess) -> None:
    component = make(module_redis, **FAST)
    await component.init()
    name = topic()
    seen: list[BrokerMessage] = []
    answers = [False, True]  # first delivery: not acked (RETRY); the reclaim hands it over again
    done = asyncio.Event()

    async def handler(message: BrokerMessage) -> bool:
        seen.append(message)
        ack = answers.pop(0) if answers else True
        if ack:
            done.set()
        return ack

    try:
        await component.publish(name, b"before-subscribe", {})  # the backlog is read by a new group
        await component.subscribe(name, handler)
        await asyncio.wait_for(done.wait(), 30)
        await asyncio.sleep(1.0)  # a second redelivery would show up here
        pending = await component.client.xpending(name, "app")
    finally:
        await component.close()
    assert [m.data for m in seen] == [b"before-subscribe", b"before-subscribe"]
    assert seen[0].broker_id == seen[1].broker_id
    assert pending["pending"] == 0


async def test_two_groups_each_get_all_one_group_shares(module_redis: RedisServerProcess) -> None:
    name = topic()
    got: dict[str, list[bytes]] = {"a1": [], "a2": [], "b": []}
    parts = [("a1", make(module_redis, "appa")), ("a2", make(module_redis, "appa")), ("b", make(module_redis, "appb"))]
    for _, c in parts:
        await c.init()

    def handler_for(key: str):  # type: ignore[no-untyped-def]
        async def handler(message: BrokerMessage) -> bool:
            got[key].append(message.data)
            return True
        return handler

    try:
        for key, c in parts:
            await c.subscribe(name, handler_for(key))
        for i in range(20):
            await parts[0][1].publish(name, str(i).encode(), {})
        for _ in range(300):
            if len(got["b"]) == 20 and len(got["a1"]) + len(got["a2"]) == 20:
                break
            await asyncio.sleep(0.05)
    finally:
        for _, c in parts:
            await c.close()
    assert sorted(got["b"], key=int) == [str(i).encode() for i in range(20)]
    assert sorted(got["a1"] + got["a2"], key=int) == [str(i).encode() for i in range(20)]

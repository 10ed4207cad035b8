"""The three state stores on real backends: in memory, a real etcd, a real redis-server (tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from daprjobs.components.pubsub.redisserver import RedisServerProcess
from daprjobs.components.state.api import StateStore
from daprjobs.components.state.etcd_store import EtcdStateStore
from daprjobs.components.state.memory import MemoryStateStore
from daprjobs.components.state.redis_store import RedisStateSettings, RedisStateStore
from daprjobs.etcd.embedded import EtcdProcess
from daprjobs.etcd.store import EtcdStore


@pytest.fixture(params=["memory", "etcd", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    """Each test runs once per store; etcd and redis get a key space of their own (a fresh prefix / db keys)."""
    kind = request.param
    if kind == "memory":
        yield MemoryStateStore()
        return
    if kind == "etcd":
        etcd: EtcdProcess = request.getfixturevalue("module_etcd")
        etcd_store = EtcdStateStore(EtcdStore([etcd.endpoint]), f"t{uuid.uuid4().hex[:8]}")
        yield etcd_store
        await etcd_store.close()
        return
    server: RedisServerProcess = request.getfixturevalue("module_redis")
    settings = RedisStateSettings.from_metadata("statestore", {"redisHost": server.address})
    client = settings.client()
    await client.flushdb()
    redis_store = RedisStateStore(client)
    yield redis_store
    await redis_store.close()

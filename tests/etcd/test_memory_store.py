"""MemoryStore's test hooks: injected failures, broken watches and clock-driven lease expiry."""

from __future__ import annotations

import asyncio

import pytest
from daprjobs.core.clock import NS_PER_SECOND, ManualClock
from daprjobs.etcd.api import ConnectionReset, is_transient, op_put
from daprjobs.etcd.memory import MemoryStore


async def test_fail_next_fails_only_the_named_operation_and_only_n_times() -> None:
    store = MemoryStore(ManualClock())
    store.fail_next(2, "txn")
    assert await store.put(b"k", b"v") == 2  # a put is not a txn
    for _ in range(2):
        with pytest.raises(ConnectionReset) as err:
            await store.txn([], [op_put(b"t", b"1")])
        assert is_transient(err.value)
    assert await store.get(b"t") is None, "a failed call must not write"
    ok, _ = await store.txn([], [op_put(b"t", b"1")])
    assert ok
    assert store.calls["txn"] == 3


async def test_fail_next_with_a_chosen_error() -> None:
    store = MemoryStore(ManualClock())
    store.fail_next(1, error=ValueError("boom"))
    with pytest.raises(ValueError, match="boom"):
        await store.get(b"k")
    assert await store.get(b"k") is None


async def test_break_watches_ends_open_watches_with_an_error() -> None:
    store = MemoryStore(ManualClock())
    watch = store.watch_prefix(b"w/", 0)
    pending = asyncio.ensure_future(anext(watch))
    await asyncio.sleep(0)
    await store.put(b"w/a", b"1")
    _rev, events = await pending
    assert [ev.kv.key for ev in events] == [b"w/a"]
    store.break_watches()
    with pytest.raises(ConnectionReset):
        await anext(watch)


async def test_leases_expire_exactly_when_the_clock_passes_their_ttl() -> None:
    clock = ManualClock()
    store = MemoryStore(clock)
    lease = await store.grant_lease(10)
    await store.put(b"k", b"v", lease)
    clock.advance(10 * NS_PER_SECOND - 1)
    assert store.expire_leases() == []
    assert await store.get(b"k") is not None
    clock.advance(1)
    assert store.expire_leases() == [lease]
    assert store.revision == 3, "the expiry deleted the key at a revision of its own"
    assert await store.get(b"k") is None


async def test_an_expired_lease_is_noticed_by_the_next_call() -> None:
    clock = ManualClock()
    store = MemoryStore(clock)
    lease = await store.grant_lease(1)
    await store.put(b"k", b"v", lease)
    clock.advance(2 * NS_PER_SECOND)
    assert await store.get(b"k") is None
    assert await store.keepalive_once(lease) == 0

"""One contract, three stores: in memory, ``state.etcd`` on a real etcd, ``state.redis`` on a real redis-server."""

from __future__ import annotations

import asyncio

import pytest
from daprjobs.components.state.api import (
    FIRST_WRITE,
    LAST_WRITE,
    TTL_EXPIRE_TIME_KEY,
    BulkStoreError,
    DeleteRequest,
    ETagError,
    Feature,
    SetRequest,
    StateStore,
    StateStoreError,
)

from tests.support.waiting import eventually


async def value_of(store: StateStore, key: str) -> bytes | None:
    item = await store.get(key)
    return None if item is None else item.data


async def test_get_missing_set_get_and_etag_changes(store: StateStore) -> None:
    assert await store.get("app||missing") is None
    await store.set(SetRequest("app||k", b'{"n":1}'))
    first = await store.get("app||k")
    assert first is not None and first.data == b'{"n":1}' and first.etag
    await store.set(SetRequest("app||k", b"\x00\xffbinary"))
    second = await store.get("app||k")
    assert second is not None and second.data == b"\x00\xffbinary"
    assert second.etag != first.etag
    assert {Feature.ETAG, Feature.TRANSACTIONAL, Feature.TTL} <= store.features()


async def test_etag_must_match(store: StateStore) -> None:
    await store.set(SetRequest("k", b"v1"))
    item = await store.get("k")
    assert item is not None
    await store.set(SetRequest("k", b"v2", etag=item.etag))
    with pytest.raises(ETagError) as stale:
        await store.set(SetRequest("k", b"v3", etag=item.etag))
    assert stale.value.kind == ETagError.MISMATCH
    assert str(stale.value).startswith("possible etag mismatch. error from state store")
    assert await value_of(store, "k") == b"v2"
    with pytest.raises(ETagError) as missing:
        await store.set(SetRequest("absent", b"x", etag="1"))
    assert missing.value.kind == ETagError.MISMATCH
    assert await store.get("absent") is None
    with pytest.raises(ETagError) as invalid:
        await store.set(SetRequest("k", b"v4", etag="not-a-number"))
    assert invalid.value.kind == ETagError.INVALID
    assert await value_of(store, "k") == b"v2"


async def test_first_write_and_last_write(store: StateStore) -> None:
    await store.set(SetRequest("fw", b"one", concurrency=FIRST_WRITE))
    with pytest.raises(ETagError):
        await store.set(SetRequest("fw", b"two", concurrency=FIRST_WRITE))
    assert await value_of(store, "fw") == b"one"
    await store.set(SetRequest("fw", b"three", etag="999999", concurrency=LAST_WRITE))
    assert await value_of(store, "fw") == b"three"


async def test_delete_with_and_without_etag(store: StateStore) -> None:
    await store.delete(DeleteRequest("never-there"))
    await store.set(SetRequest("d", b"v"))
    item = await store.get("d")
    assert item is not None
    with pytest.raises(ETagError):
        await store.delete(DeleteRequest("d", etag=str(int(item.etag) + 1000)))
    assert await value_of(store, "d") == b"v"
    await store.delete(DeleteRequest("d", etag=item.etag))
    assert await store.get("d") is None
    with pytest.raises(ETagError):
        await store.delete(DeleteRequest("d", etag=item.etag))
    await store.set(SetRequest("d2", b"v"))
    await store.delete(DeleteRequest("d2"))
    assert await store.get("d2") is None


async def test_bulk_get_keeps_order_and_reports_missing(store: StateStore) -> None:
    keys = [f"b{i}" for i in range(300)]
    await store.bulk_set([SetRequest(k, k.encode()) for k in keys[::2]])
    items = await store.bulk_get(keys)
    assert [i.key for i in items] == keys
    for i, entry in enumerate(items):
        assert (entry.item.data if entry.item else None) == (keys[i].encode() if i % 2 == 0 else None)


async def test_bulk_set_applies_the_good_and_names_the_bad(store: StateStore) -> None:
    await store.set(SetRequest("guarded", b"orig"))
    with pytest.raises(BulkStoreError) as failed:
        await store.bulk_set([SetRequest("ok1", b"1"), SetRequest("guarded", b"x", etag="424242"),
                              SetRequest("ok2", b"2")])
    assert list(failed.value.failures) == ["guarded"]
    assert failed.value.as_etag_error() is not None
    assert await value_of(store, "ok1") == b"1" and await value_of(store, "ok2") == b"2"
    assert await value_of(store, "guarded") == b"orig"
    await store.bulk_delete([DeleteRequest("ok1"), DeleteRequest("ok2")])
    assert await store.get("ok1") is None and await store.get("ok2") is None


async def test_multi_is_all_or_nothing(store: StateStore) -> None:
    await store.set(SetRequest("t1", b"before"))
    await store.set(SetRequest("t3", b"keep"))
    with pytest.raises(ETagError):
        await store.multi([SetRequest("t1", b"after"), DeleteRequest("t3"), SetRequest("t2", b"new"),
                           SetRequest("t1", b"again", etag="777777")])
    assert await value_of(store, "t1") == b"before"
    assert await value_of(store, "t3") == b"keep"
    assert await store.get("t2") is None
    t1 = await store.get("t1")
    assert t1 is not None
    await store.multi([SetRequest("t1", b"after", etag=t1.etag), DeleteRequest("t3"), SetRequest("t2", b"new")])
    assert await value_of(store, "t1") == b"after"
    assert await store.get("t3") is None
    assert await value_of(store, "t2") == b"new"


async def test_multi_same_key_twice_last_wins(store: StateStore) -> None:
    await store.multi([SetRequest("dup", b"first"), SetRequest("dup", b"second")])
    assert await value_of(store, "dup") == b"second"
    await store.multi([SetRequest("dup", b"third"), DeleteRequest("dup")])
    assert await store.get("dup") is None


async def test_bad_options_and_ttl_store_nothing(store: StateStore) -> None:
    with pytest.raises(StateStoreError):
        await store.set(SetRequest("bad", b"x", concurrency="sometimes"))
    with pytest.raises(StateStoreError):
        await store.set(SetRequest("bad", b"x", metadata={"ttlInSeconds": "soon"}))
    with pytest.raises(StateStoreError):
        await store.multi([SetRequest("bad2", b"x"), SetRequest("bad", b"x", metadata={"ttlInSeconds": "-5"})])
    assert await store.get("bad") is None and await store.get("bad2") is None


async def test_ttl_expires_and_a_write_without_ttl_clears_it(store: StateStore) -> None:
    await store.set(SetRequest("short", b"v", metadata={"ttlInSeconds": "1"}))
    await store.set(SetRequest("kept", b"v", metadata={"ttlInSeconds": "1"}))
    short = await store.get("short")
    assert short is not None and TTL_EXPIRE_TIME_KEY in short.metadata
    await store.set(SetRequest("kept", b"v2"))
    kept = await store.get("kept")
    assert kept is not None and TTL_EXPIRE_TIME_KEY not in kept.metadata
    await eventually(lambda: _is_gone(store, "short"), timeout=15, what="the 1 s TTL to expire")
    assert await value_of(store, "kept") == b"v2"


async def _is_gone(store: StateStore, key: str) -> bool:
    return await store.get(key) is None


async def test_concurrent_writers_lose_no_update(store: StateStore) -> None:
    await store.set(SetRequest("counter", b"0"))
    conflicts = 0

    async def add_one() -> None:
        nonlocal conflicts
        while True:
            item = await store.get("counter")
            assert item is not None
            await asyncio.sleep(0)  # let the other writers read the same version
            try:
                await store.set(SetRequest("counter", str(int(item.data) + 1).encode(), etag=item.etag))
                return
            except ETagError:
                conflicts += 1
                await asyncio.sleep(0)

    await asyncio.gather(*(add_one() for _ in range(40)))
    assert await value_of(store, "counter") == b"40"
    assert conflicts > 0  # the writers really raced: some had to retry

"""One contract for every Store: the same tests run against real etcd (EtcdStore) and MemoryStore.

What the scheduler and the actors rely on is written down here once; an implementation that passes it can stand in
for etcd. Time-dependent cases (lease expiry) move a ManualClock for the memory store and really wait for etcd.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from daprjobs.core.clock import NS_PER_SECOND, ManualClock
from daprjobs.etcd.api import (
    Store,
    WatchEvent,
    cmp_absent,
    cmp_mod_revision,
    cmp_value,
    op_delete,
    op_get,
    op_put,
    prefix_end,
)
from daprjobs.etcd.embedded import EtcdProcess
from daprjobs.etcd.memory import MemoryStore
from daprjobs.etcd.store import EtcdStore


@dataclass
class Backend:
    store: Store
    # Let this many seconds pass for the store's leases.
    wait: Callable[[float], Awaitable[None]]


@pytest.fixture(params=["memory", "etcd"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        clock = ManualClock()

        async def advance(seconds: float) -> None:
            clock.advance(int(seconds * NS_PER_SECOND))

        yield Backend(MemoryStore(clock), advance)
        return
    etcd: EtcdProcess = request.getfixturevalue("etcd")
    store = EtcdStore([etcd.endpoint])
    await store.connect()
    try:
        yield Backend(store, asyncio.sleep)
    finally:
        await store.close()


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.store


Watch = AsyncIterator[tuple[int, list[WatchEvent]]]


async def _next(watch: Watch, timeout: float = 5.0) -> tuple[int, list[WatchEvent]]:
    return await asyncio.wait_for(anext(watch), timeout)


async def _events(watch: Watch, count: int) -> list[WatchEvent]:
    out: list[WatchEvent] = []
    while len(out) < count:
        _rev, events = await _next(watch)
        out += events
    return out


async def _all(store: Store, prefix: bytes, **kwargs: int) -> list[tuple[int, list[bytes]]]:
    return [(rev, [kv.key for kv in kvs]) async for rev, kvs in store.range_prefix(prefix, **kwargs)]


# --- keys, revisions, versions --------------------------------------------------------------------------------

async def test_put_and_get_track_create_and_mod_revision_and_version(store: Store) -> None:
    first = await store.put(b"k", b"v1")
    second = await store.put(b"k", b"v2")
    assert second == first + 1
    kv = await store.get(b"k")
    assert kv is not None
    assert (kv.value, kv.create_revision, kv.mod_revision, kv.version) == (b"v2", first, second, 2)
    assert await store.get(b"missing") is None


async def test_a_deleted_key_comes_back_as_a_new_key(store: Store) -> None:
    await store.put(b"k", b"v")
    await store.put(b"k", b"v")
    await store.txn([], [op_delete(b"k")])
    assert await store.get(b"k") is None
    again = await store.put(b"k", b"w")
    kv = await store.get(b"k")
    assert kv is not None
    assert (kv.version, kv.create_revision, kv.mod_revision) == (1, again, again)


async def test_get_many_returns_only_the_keys_that_exist(store: Store) -> None:
    await store.put(b"a", b"1")
    await store.put(b"c", b"3")
    found = await store.get_many([b"a", b"b", b"c"], chunk=2)
    assert {k: kv.value for k, kv in found.items()} == {b"a": b"1", b"c": b"3"}


# --- transactions ---------------------------------------------------------------------------------------------

async def test_txn_applies_success_when_the_guard_holds_and_failure_when_not(store: Store) -> None:
    rev = await store.put(b"job", b"v1")
    ok, _ = await store.txn([cmp_mod_revision(b"job", rev)], [op_put(b"counter", b"1")], [op_put(b"lost", b"x")])
    assert ok
    await store.put(b"job", b"v2")  # the job changed: an old guard must now fail
    ok, _ = await store.txn([cmp_mod_revision(b"job", rev)], [op_put(b"counter", b"2")], [op_put(b"lost", b"x")])
    assert not ok
    counter, lost = await store.get(b"counter"), await store.get(b"lost")
    assert counter is not None and counter.value == b"1"
    assert lost is not None and lost.value == b"x"


async def test_txn_writes_share_one_new_revision(store: Store) -> None:
    before = await store.put(b"x", b"0")
    ok, resp = await store.txn([], [op_put(b"a", b"1"), op_put(b"b", b"2"), op_delete(b"x")])
    assert ok
    assert resp.header.revision == before + 1
    a, b = await store.get(b"a"), await store.get(b"b")
    assert a is not None and b is not None
    assert a.mod_revision == b.mod_revision == before + 1
    assert resp.responses[2].response_delete_range.deleted == 1


async def test_a_txn_that_changes_nothing_takes_no_revision(store: Store) -> None:
    rev = await store.put(b"k", b"v")
    _ok, resp = await store.txn([], [op_delete(b"absent"), op_get(b"k")])
    assert resp.header.revision == rev
    assert resp.responses[0].response_delete_range.deleted == 0
    assert [kv.value for kv in resp.responses[1].response_range.kvs] == [b"v"]
    assert await store.put(b"k", b"w") == rev + 1


async def test_absent_and_value_compares(store: Store) -> None:
    ok, _ = await store.txn([cmp_absent(b"k")], [op_put(b"k", b"mine")])
    assert ok
    ok, _ = await store.txn([cmp_absent(b"k")], [op_put(b"k", b"theirs")])
    assert not ok
    ok, _ = await store.txn([cmp_value(b"k", b"mine")], [op_put(b"k", b"mine2")])
    assert ok
    # etcd fails every VALUE compare on a missing key, even one against the empty value.
    ok, _ = await store.txn([cmp_value(b"nothing", b"")], [op_put(b"nothing", b"x")])
    assert not ok
    kv = await store.get(b"k")
    assert kv is not None and kv.value == b"mine2"
    assert await store.get(b"nothing") is None


async def test_a_refused_txn_writes_nothing(store: Store) -> None:
    lease = await store.grant_lease(30)
    await store.revoke_lease(lease)
    with pytest.raises(Exception):  # noqa: B017 (etcd: NOT_FOUND status; memory: LeaseNotFound)
        await store.txn([], [op_put(b"first", b"1"), op_put(b"second", b"2", lease)])
    assert await store.get(b"first") is None


async def test_delete_range_deletes_exactly_the_prefix(store: Store) -> None:
    for key in (b"p/a", b"p/b", b"p0", b"q"):
        await store.put(key, b"v")
    _ok, resp = await store.txn([], [op_delete(b"p/", prefix_end(b"p/"))])
    assert resp.responses[0].response_delete_range.deleted == 2
    assert sorted((await store.get_many([b"p/a", b"p/b", b"p0", b"q"])).keys()) == [b"p0", b"q"]


# --- ranges ---------------------------------------------------------------------------------------------------

async def test_range_prefix_pages_in_key_order_at_one_revision(store: Store) -> None:
    for key in (b"r/e", b"r/a", b"r/d", b"r/c", b"r/b", b"r0", b"q/z"):
        await store.put(key, b"v")
    pages = await _all(store, b"r/", page=2)
    assert [keys for _rev, keys in pages] == [[b"r/a", b"r/b"], [b"r/c", b"r/d"], [b"r/e"]]
    assert len({rev for rev, _keys in pages}) == 1


async def test_range_prefix_stays_pinned_while_writes_go_on(store: Store) -> None:
    for key in (b"r/a", b"r/b", b"r/c", b"r/d"):
        await store.put(key, b"old")
    seen: list[tuple[bytes, bytes]] = []
    revisions = set()
    async for rev, kvs in store.range_prefix(b"r/", page=2):
        revisions.add(rev)
        seen += [(kv.key, kv.value) for kv in kvs]
        if len(seen) == 2:
            await store.put(b"r/c", b"new")
            await store.put(b"r/bb", b"added")
            await store.txn([], [op_delete(b"r/d")])
    assert seen == [(b"r/a", b"old"), (b"r/b", b"old"), (b"r/c", b"old"), (b"r/d", b"old")]
    assert len(revisions) == 1


async def test_range_at_an_older_revision_and_keys_only(store: Store) -> None:
    old = await store.put(b"r/a", b"v1")
    await store.put(b"r/a", b"v2")
    await store.put(b"r/b", b"v")
    then = [kv async for _rev, kvs in store.range_prefix(b"r/", revision=old) for kv in kvs]
    assert [(kv.key, kv.value) for kv in then] == [(b"r/a", b"v1")]
    keys = [kv async for _rev, kvs in store.range_prefix(b"r/", keys_only=True) for kv in kvs]
    assert [(kv.key, kv.value, kv.version) for kv in keys] == [(b"r/a", b"", 2), (b"r/b", b"", 1)]


# --- watches --------------------------------------------------------------------------------------------------

async def test_watch_replays_from_its_start_revision_in_order(store: Store) -> None:
    await store.put(b"w/before", b"x")
    start = await store.put(b"w/a", b"1")
    await store.put(b"other", b"x")
    await store.put(b"w/a", b"2")
    await store.txn([], [op_delete(b"w/a")])
    watch = store.watch_prefix(b"w/", start)
    try:
        events = await _events(watch, 3)
    finally:
        await watch.aclose()  # type: ignore[attr-defined]
    assert [(ev.is_put, ev.kv.key, ev.kv.value) for ev in events] == [
        (True, b"w/a", b"1"), (True, b"w/a", b"2"), (False, b"w/a", b"")]
    assert [ev.kv.mod_revision for ev in events] == [start, start + 2, start + 3]
    assert events[0].prev_kv is None
    assert events[1].prev_kv is not None and events[1].prev_kv.value == b"1"
    assert events[2].prev_kv is not None and events[2].prev_kv.value == b"2"


async def test_watch_follows_live_writes_one_batch_per_transaction(store: Store) -> None:
    rev = await store.put(b"w/seed", b"x")
    watch = store.watch_prefix(b"w/", rev + 1)
    try:
        pending = asyncio.ensure_future(_next(watch))
        await asyncio.sleep(0.2)  # the watch is established before the writes
        await store.put(b"elsewhere", b"x")
        _ok, resp = await store.txn([], [op_put(b"w/a", b"1"), op_put(b"w/b", b"2")])
        header_rev, batch = await pending
        await store.put(b"w/c", b"3")
        _rev, later = await _next(watch)
    finally:
        await watch.aclose()  # type: ignore[attr-defined]
    assert header_rev >= resp.header.revision
    assert [(ev.kv.key, ev.kv.mod_revision) for ev in batch] == [(b"w/a", rev + 2), (b"w/b", rev + 2)]
    assert [ev.kv.key for ev in later] == [b"w/c"]


async def test_watch_without_prev_kv(store: Store) -> None:
    start = await store.put(b"w/a", b"1")
    await store.put(b"w/a", b"2")
    watch = store.watch_prefix(b"w/", start + 1, prev_kv=False)
    try:
        (event,) = await _events(watch, 1)
    finally:
        await watch.aclose()  # type: ignore[attr-defined]
    assert event.kv.value == b"2"
    assert event.prev_kv is None


# --- leases ---------------------------------------------------------------------------------------------------

async def test_revoking_a_lease_deletes_its_keys_in_one_revision(store: Store) -> None:
    lease = await store.grant_lease(30)
    await store.put(b"l/a", b"1", lease)
    rev = await store.put(b"l/b", b"2", lease)
    await store.put(b"l/free", b"3")
    kv = await store.get(b"l/a")
    assert kv is not None and kv.lease == lease
    watch = store.watch_prefix(b"l/", rev + 2)
    try:
        await store.revoke_lease(lease)
        events = await _events(watch, 2)
    finally:
        await watch.aclose()  # type: ignore[attr-defined]
    assert sorted((ev.is_put, ev.kv.key) for ev in events) == [(False, b"l/a"), (False, b"l/b")]
    assert len({ev.kv.mod_revision for ev in events}) == 1
    assert sorted((await store.get_many([b"l/a", b"l/b", b"l/free"])).keys()) == [b"l/free"]
    assert await store.keepalive_once(lease) <= 0


async def test_a_put_without_the_lease_detaches_the_key(store: Store) -> None:
    lease = await store.grant_lease(30)
    await store.put(b"k", b"leased", lease)
    await store.put(b"k", b"free")
    await store.revoke_lease(lease)
    kv = await store.get(b"k")
    assert kv is not None and kv.value == b"free" and kv.lease == 0


async def test_keepalive_holds_a_lease_and_its_absence_expires_it(backend: Backend) -> None:
    store = backend.store
    lease = await store.grant_lease(2)
    await store.put(b"l/k", b"v", lease)
    await backend.wait(1.2)
    assert await store.keepalive_once(lease) > 0
    await backend.wait(1.2)  # 2.4 s after the grant, 1.2 s after the renewal
    assert await store.get(b"l/k") is not None
    await backend.wait(2.5)
    for _ in range(40):  # etcd's leader checks expiry every 500 ms
        if await store.get(b"l/k") is None:
            break
        await asyncio.sleep(0.1)
    assert await store.get(b"l/k") is None
    assert await store.keepalive_once(lease) <= 0

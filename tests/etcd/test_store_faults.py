"""EtcdStore under etcd faults: a dead member is skipped, a dead or frozen etcd gives a clean, bounded error."""

from __future__ import annotations

import asyncio

import pytest
from daprjobs.etcd.api import cmp_absent, op_put
from daprjobs.etcd.cluster import EtcdCluster
from daprjobs.etcd.embedded import EtcdProcess
from daprjobs.etcd.failures import EtcdUnavailable
from daprjobs.etcd.store import EtcdStore

pytestmark = pytest.mark.timeout(120)

# A call bounded at CALL_S must end well within this (a frozen etcd must not hold it for the channel's lifetime).
HANG_BOUND_S = 20.0
CALL_S = 2.0


def _member_at(cluster: EtcdCluster, endpoint: str) -> EtcdProcess:
    return next(m for m in cluster.members if m.endpoint.endswith(endpoint))


async def test_reads_and_writes_carry_on_when_the_connected_member_dies(etcd_cluster: EtcdCluster) -> None:
    store = EtcdStore(etcd_cluster.endpoints, timeout=10.0)
    try:
        await store.put(b"k/before", b"1")
        connected = _member_at(etcd_cluster, store.endpoint)
        connected.kill()
        # Reads land on a live member without the caller seeing the dead one. A write already on its way to the
        # dying member may have been applied: only that one fails, and it says so; the next ones go elsewhere.
        lost = []
        for i in range(20):
            key = f"k/{i}".encode()
            try:
                ok, _ = await store.txn([cmp_absent(key)], [op_put(key, b"v")])
                assert ok
            except EtcdUnavailable as exc:
                assert exc.maybe_applied and "may have been applied" in str(exc)
                lost.append(key)
                await store.put(key, b"v")
        assert len(lost) <= 1, lost
        kv = await store.get(b"k/before")
        assert kv is not None and kv.value == b"1"
        assert [kv.key async for _rev, kvs in store.range_prefix(b"k/") for kv in kvs] == sorted(
            [b"k/before", *(f"k/{i}".encode() for i in range(20))])
        assert not store.endpoint.endswith(connected.endpoint.removeprefix("http://"))
    finally:
        await store.close()


async def test_a_watch_on_a_dead_member_ends_and_the_next_one_follows_a_live_member(etcd_cluster: EtcdCluster) -> None:
    store = EtcdStore(etcd_cluster.endpoints, timeout=10.0)
    try:
        revision = await store.put(b"w/0", b"0")
        watch = store.watch_prefix(b"w/", revision + 1)
        first = asyncio.ensure_future(anext(watch))
        await asyncio.sleep(0.2)
        _member_at(etcd_cluster, store.endpoint).kill()
        with pytest.raises(EtcdUnavailable):
            await asyncio.wait_for(first, HANG_BOUND_S)
        # A write while the cluster elects a new leader (the dead member may have led) can time out in etcd;
        # that one says it may have been applied, and the same put again is harmless.
        for _ in range(5):
            try:
                await store.put(b"w/1", b"1")
                break
            except EtcdUnavailable as exc:
                assert exc.maybe_applied
        again = store.watch_prefix(b"w/", revision + 1)
        _rev, events = await asyncio.wait_for(anext(again), HANG_BOUND_S)
        assert {e.kv.key for e in events} == {b"w/1"}
        await again.aclose()  # type: ignore[attr-defined]
    finally:
        await store.close()


async def test_a_dead_etcd_fails_calls_with_a_clean_unavailable_and_nothing_applied(etcd: EtcdProcess) -> None:
    store = EtcdStore([etcd.endpoint], timeout=CALL_S)
    try:
        await store.put(b"d/k", b"1")
        etcd.kill()
        for call in (store.get(b"d/k"), store.put(b"d/k", b"2"), store.txn([], [op_put(b"d/x", b"1")])):
            with pytest.raises(EtcdUnavailable) as err:
                await asyncio.wait_for(call, HANG_BOUND_S)
            assert not err.value.maybe_applied
            text = str(err.value)
            assert "etcd unavailable" in text and "nothing was applied" in text
            assert "AioRpcError" not in text and "debug_error_string" not in text, text
        etcd.start()
        kv = await store.get(b"d/k")
        assert kv is not None and kv.value == b"1", "a refused write must not have been applied"
    finally:
        await store.close()


async def test_a_frozen_etcd_bounds_every_call_and_says_a_write_may_have_been_applied(etcd: EtcdProcess) -> None:
    store = EtcdStore([etcd.endpoint], timeout=CALL_S)
    try:
        await store.put(b"f/k", b"1")
        etcd.pause()
        try:
            with pytest.raises(EtcdUnavailable) as read:
                await asyncio.wait_for(store.get(b"f/k"), HANG_BOUND_S)
            assert not read.value.maybe_applied
            with pytest.raises(EtcdUnavailable) as write:
                await asyncio.wait_for(store.txn([], [op_put(b"f/w", b"1")]), HANG_BOUND_S)
            assert write.value.maybe_applied
            assert "may have been applied" in str(write.value)
        finally:
            etcd.resume()
        # Once it runs again, the same store answers again.
        kv = await store.get(b"f/k")
        assert kv is not None and kv.value == b"1"
    finally:
        await store.close()

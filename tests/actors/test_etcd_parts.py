"""The etcd-backed parts against a real etcd: the actor state store and the placement registry."""

from __future__ import annotations

import asyncio

import pytest
from daprjobs.actors.etcd_state_store import EtcdActorStateStore, EtcdStateStoreConfig
from daprjobs.actors.placement import PlacementRegistry
from daprjobs.actors.stateops import StateOperation
from daprjobs.etcd.embedded import EtcdProcess
from daprjobs.etcd.store import EtcdStore


@pytest.fixture
async def store(etcd: EtcdProcess):  # type: ignore[no-untyped-def]
    client = EtcdStore([etcd.endpoint])
    await client.connect()
    yield client
    await client.close()


async def test_state_keys_are_scoped_by_app_type_and_id(store: EtcdStore) -> None:
    one = EtcdActorStateStore(store, "app1", "pfx")
    two = EtcdActorStateStore(store, "app2", "pfx")
    await one.transact("T", "1", [StateOperation("upsert", "k", b'{"a":1}')])
    assert await one.get("T", "1", "k") == b'{"a":1}'
    assert await two.get("T", "1", "k") is None
    assert await one.get("T", "2", "k") is None
    assert await one.get("U", "1", "k") is None
    kv = await store.get(b"pfx/app1||T||1||k")
    assert kv is not None and kv.value == b'{"a":1}'


async def test_one_transaction_with_ttl_and_deletes(store: EtcdStore) -> None:
    state = EtcdActorStateStore(store, "app", "pfx")
    await state.transact("T", "1", [StateOperation("upsert", "gone", b"1"), StateOperation("upsert", "kept", b"2")])
    _, before = await store.txn([], [])
    await state.transact("T", "1", [
        StateOperation("delete", "gone"),
        StateOperation("upsert", "short", b'"x"', ttl_seconds=1),
        StateOperation("upsert", "kept", b"3"),
        StateOperation("upsert", "kept", b"4"),  # the last write of a key wins
    ])
    _, after = await store.txn([], [])
    assert after.header.revision == before.header.revision + 1  # type: ignore[attr-defined]
    assert await state.get("T", "1", "gone") is None
    assert await state.get("T", "1", "kept") == b"4"
    short = await store.get(b"pfx/app||T||1||short")
    assert short is not None and short.lease != 0
    kept = await store.get(b"pfx/app||T||1||kept")
    assert kept is not None and kept.lease == 0
    for _ in range(100):
        if await state.get("T", "1", "short") is None:
            break
        await asyncio.sleep(0.1)
    assert await state.get("T", "1", "short") is None


def test_component_config() -> None:
    config = EtcdStateStoreConfig.from_component("s", {"endpoints": "h1:2379, h2:2379", "keyPrefixPath": "/x/"}, [])
    assert config.endpoints == ("h1:2379", "h2:2379") and config.key_prefix == "x"
    fallback = EtcdStateStoreConfig.from_component("s", {"actorStateStore": "true"}, ["http://e:2379"])
    assert fallback.endpoints == ("http://e:2379",) and fallback.key_prefix == "dapr"


async def _until(check, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_registries_agree_and_a_leaving_host_hands_over(etcd: EtcdProcess) -> None:
    stores = [EtcdStore([etcd.endpoint]) for _ in range(3)]
    hosts = [PlacementRegistry(s, "ns", "app", f"127.0.0.1:{4000 + i}", lease_ttl_s=2) for i, s in enumerate(stores)]
    try:
        for host in hosts:
            await host.start()
            await host.set_types(["Demo"])
        await _until(lambda: all(len(h.hosts("Demo")) == 3 for h in hosts))
        owners = {str(i): hosts[0].owner("Demo", str(i)) for i in range(60)}
        for host in hosts[1:]:
            assert {str(i): host.owner("Demo", str(i)) for i in range(60)} == owners
        assert set(owners.values()) == {h.address for h in hosts}

        await hosts[2].stop()  # a clean stop revokes the lease: the others see it at once
        await _until(lambda: len(hosts[0].hosts("Demo")) == 2, timeout=5)
        for actor_id, owner in owners.items():
            now = hosts[0].owner("Demo", actor_id)
            assert now == owner if owner != hosts[2].address else now in (hosts[0].address, hosts[1].address)

        # A host that vanishes without revoking is dropped when its lease expires.
        hosts[1]._stopping = True
        for task in hosts[1]._tasks:
            task.cancel()
        await asyncio.gather(*hosts[1]._tasks, return_exceptions=True)
        await _until(lambda: hosts[0].hosts("Demo") == [hosts[0].address], timeout=20)

        # Unregistering a type removes it.
        await hosts[0].set_types([])
        await _until(lambda: hosts[0].hosts("Demo") == [])
    finally:
        for host in (hosts[0],):
            await host.stop()
        for s in stores:
            await s.close()


async def test_suspected_host_is_skipped(etcd: EtcdProcess) -> None:
    stores = [EtcdStore([etcd.endpoint]) for _ in range(2)]
    hosts = [PlacementRegistry(s, "ns2", "app", f"127.0.0.1:{5000 + i}") for i, s in enumerate(stores)]
    try:
        for host in hosts:
            await host.start()
            await host.set_types(["Demo"])
        await _until(lambda: all(len(h.hosts("Demo")) == 2 for h in hosts))
        remote = next(str(i) for i in range(100) if hosts[0].owner("Demo", str(i)) == hosts[1].address)
        hosts[0].suspect("Demo", hosts[1].address)
        assert hosts[0].owner("Demo", remote) == hosts[0].address
        hosts[0].suspect("Demo", hosts[0].address)  # never itself
        assert hosts[0].hosts("Demo") == [hosts[0].address]
    finally:
        for host in hosts:
            await host.stop()
        for s in stores:
            await s.close()

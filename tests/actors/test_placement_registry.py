"""The placement registry against a real etcd (actor state is tested with the state stores, tests/components/state)."""

from __future__ import annotations

import asyncio

from daprjobs.actors.placement import PlacementRegistry
from daprjobs.etcd.embedded import EtcdProcess
from daprjobs.etcd.store import EtcdStore

from tests.support.waiting import eventually


async def test_registries_agree_and_a_leaving_host_hands_over(etcd: EtcdProcess) -> None:
    stores = [EtcdStore([etcd.endpoint]) for _ in range(3)]
    hosts = [PlacementRegistry(s, "ns", "app", f"127.0.0.1:{4000 + i}", lease_ttl_s=2) for i, s in enumerate(stores)]
    try:
        for host in hosts:
            await host.start()
            await host.set_types(["Demo"])
        await eventually(lambda: all(len(h.hosts("Demo")) == 3 for h in hosts))
        owners = {str(i): hosts[0].owner("Demo", str(i)) for i in range(60)}
        for host in hosts[1:]:
            assert {str(i): host.owner("Demo", str(i)) for i in range(60)} == owners
        assert set(owners.values()) == {h.address for h in hosts}

        await hosts[2].stop()  # a clean stop revokes the lease: the others see it at once
        await eventually(lambda: len(hosts[0].hosts("Demo")) == 2, timeout=5)
        for actor_id, owner in owners.items():
            now = hosts[0].owner("Demo", actor_id)
            assert now == owner if owner != hosts[2].address else now in (hosts[0].address, hosts[1].address)

        # A host that vanishes without revoking is dropped when its lease expires.
        hosts[1]._stopping = True
        for task in hosts[1]._tasks:
            task.cancel()
        await asyncio.gather(*hosts[1]._tasks, return_exceptions=True)
        await eventually(lambda: hosts[0].hosts("Demo") == [hosts[0].address], timeout=20)

        # Unregistering a type removes it.
        await hosts[0].set_types([])
        await eventually(lambda: hosts[0].hosts("Demo") == [])
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
        await eventually(lambda: all(len(h.hosts("Demo")) == 2 for h in hosts))
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

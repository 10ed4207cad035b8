"""Turns membership changes into the engine's partition table, handing jobs over safely.

On every change: if the set of live replicas differs from the view this replica
published, it first releases the jobs it will no longer own (the engine settles
their in-flight triggers and counter writes), then publishes the new view, and
only then computes what it may trigger. Peers wait for that published view
before taking the released jobs (see daprjobs.core.partition), so no job has two
triggering owners, and jobs that keep their owner never pause.
"""

from __future__ import annotations

import asyncio
import logging

from daprjobs.core.partition import PartitionTable
from daprjobs.scheduler.engine import Engine
from daprjobs.scheduler.membership import Membership
from daprjobs.scheduler.metrics import SchedulerMetrics

log = logging.getLogger(__name__)


class OwnershipCoordinator:
    def __init__(self, membership: Membership, engine: Engine, metrics: SchedulerMetrics) -> None:
        self._membership = membership
        self._engine = engine
        self._metrics = metrics
        self.hosts = HostList()
        self.settled = asyncio.Event()

    async def run(self) -> None:
        while True:
            await self._membership.changed.wait()
            self._membership.changed.clear()
            try:
                await self.reconcile()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ownership reconcile failed; retrying")
                await asyncio.sleep(0.5)
                self._membership.changed.set()

    async def reconcile(self) -> None:
        membership = self._membership
        me = membership.replica_id
        members = dict(membership.members)
        self.hosts.set(sorted(m.address for m in members.values() if m.address))
        self._metrics.members.set(len(members))
        if membership.fenced or me not in members:
            await self._engine.apply_table(PartitionTable.inactive())
            return
        live = tuple(sorted(members))
        peer_views = {rid: m.view for rid, m in members.items() if rid != me}
        published = members[me].view
        if published != live:
            target = PartitionTable(me, live, peer_views)
            current = self._engine.table
            # Keep only what is both active now and still ours under the new view, then let go of the rest.
            narrowed = PartitionTable(me, live, peer_views)
            narrowed.active = [a and o for a, o in zip(current.active, target.owned, strict=True)]
            await self._engine.apply_table(narrowed)
            await membership.publish_view(live)
            published = live
        await self._engine.apply_table(PartitionTable(me, published, peer_views))
        self.settled.set()


class HostList:
    """The live replicas' addresses, for WatchHosts: read it, then wait for the next change."""

    def __init__(self) -> None:
        self.addresses: list[str] = []
        self._changed = asyncio.Event()

    def set(self, addresses: list[str]) -> None:
        if addresses != self.addresses:
            self.addresses = addresses
            self._changed.set()
            self._changed = asyncio.Event()

    def change_event(self) -> asyncio.Event:
        return self._changed

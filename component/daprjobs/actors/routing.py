"""Which sidecar runs an actor id, as this sidecar uses placement: owner lookup, suspicion, rebalancing.

Without placement (no etcd), this sidecar owns the types it hosts and nothing else. With it, an owner is looked
up once the table has been read, waiting a little for some host of the type to appear (start-up races). When
the table changes, local actors that now belong to another host are deactivated (and their timers dropped).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from daprjobs.actors.host import LocalActors
from daprjobs.actors.hosted_types import HostedActorTypes
from daprjobs.actors.placement import PlacementRegistry

log = logging.getLogger(__name__)

# How long an invocation waits for some host of its actor type to appear (start-up races).
HOST_WAIT_S = 10.0
# How long a call waits for the placement table's first read from etcd.
PLACEMENT_SYNC_WAIT_S = 5.0
# How many hosts a forwarded call tries before giving up (each refusal suspects that host).
ROUTE_ATTEMPTS = 3

Spawn = Callable[[Coroutine[Any, Any, None], str], None]


class ActorRouter:
    def __init__(
        self, own_address: Callable[[], str], hosted: HostedActorTypes, local: LocalActors, spawn: Spawn
    ) -> None:
        self._own_address = own_address
        self._hosted = hosted
        self._local = local
        self._spawn = spawn
        self.placement: PlacementRegistry | None = None
        self._rebalance_pending = False
        self._stopping = False

    def snapshot(self) -> dict[str, list[str]]:
        return self.placement.snapshot() if self.placement is not None else {}

    async def owner(self, actor_type: str, actor_id: str, wait_s: float) -> str | None:
        """The address of the actor's host (None: no host). Without placement, this sidecar or nobody."""
        placement = self.placement
        if placement is None:
            return self._own_address() if self._hosted.is_hosted(actor_type) else None
        if not placement.synced:
            # Until the table is read, this host would wrongly see itself as the only one.
            await placement.wait_synced(max(wait_s, PLACEMENT_SYNC_WAIT_S))
        if wait_s > 0 and not placement.hosts(actor_type):
            await placement.wait_for_host(actor_type, wait_s)
        return placement.owner(actor_type, actor_id)

    def is_self(self, address: str) -> bool:
        return address == (self.placement.address if self.placement is not None else self._own_address())

    def suspect(self, actor_type: str, address: str) -> None:
        if self.placement is not None:
            self.placement.suspect(actor_type, address)

    # ------------------------------------------------------------------ rebalancing

    def stop(self) -> None:
        self._stopping = True

    def on_placement_change(self) -> None:
        if self._rebalance_pending or self._stopping:
            return
        self._rebalance_pending = True
        self._spawn(self._rebalance(), "actor rebalance")

    async def _rebalance(self) -> None:
        """Deactivate local actors (and drop timers of actors) that placement now gives to another host."""
        await asyncio.sleep(0)
        self._rebalance_pending = False
        placement = self.placement
        if placement is None:
            return
        candidates = set(self._local.active_actors())
        candidates.update((s.actor_type, s.actor_id) for s in self._local.timers.active())
        moved = []
        for actor_type, actor_id in candidates:
            owner = placement.owner(actor_type, actor_id)
            if owner is not None and owner != placement.address:
                moved.append((actor_type, actor_id))
        # Concurrently: each deactivation waits for its actor's turn, and one busy actor must not hold up the rest.
        results = await asyncio.gather(
            *(self._local.deactivate(t, i, moved=True) for t, i in moved), return_exceptions=True
        )
        for (actor_type, actor_id), result in zip(moved, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("deactivating a moved actor failed actor_type=%s actor_id=%s error=%r",
                            actor_type, actor_id, result)
        if moved:
            log.info("actors moved to other hosts were deactivated count=%d", len(moved))

"""``ActorStateStore``: what the actor runtime needs from the store that keeps actor state.

The one interface between the actors and their state: the runtime reads a key and applies a transaction for
one actor, nothing else. ``components/state/actor_state.StateStoreActorState`` implements it on any state store
component marked ``actorStateStore: "true"`` (``state.etcd``, ``state.redis``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from daprjobs.actors.stateops import StateOperation


class ActorStateStore(Protocol):
    async def get(self, actor_type: str, actor_id: str, key: str) -> bytes | None:
        """The stored bytes of ``key`` for this actor, or None when there are none."""
        ...

    async def transact(self, actor_type: str, actor_id: str, ops: Sequence[StateOperation]) -> None:
        """Apply every operation atomically; on failure raise and write nothing."""
        ...

    async def close(self) -> None: ...

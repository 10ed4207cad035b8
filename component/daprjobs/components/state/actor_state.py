"""Actor state on any state store: the actors' ``ActorStateStore`` (get one key, apply one transaction) over a
``StateStore``, so the actor state store can be ``state.etcd`` or ``state.redis`` alike.

Keys are daprd's actor state keys, ``<app id>||<actor type>||<actor id>||<key>`` (no ``keyPrefix`` strategy applies
to actors, as in daprd); one actor transaction is one ``multi`` (all or nothing); an upsert's ``ttlInSeconds``
becomes the write's TTL.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from daprjobs.actors.stateops import StateOperation as ActorOperation
from daprjobs.components.state.api import TTL_METADATA_KEY, DeleteRequest, SetRequest, StateOperation, StateStore
from daprjobs.components.state.registry import open_store
from daprjobs.sidecar.config import ComponentResource

log = logging.getLogger(__name__)

SEPARATOR = "||"


class StateStoreActorState:
    """``daprjobs.actors.state_store.ActorStateStore`` on a ``StateStore``; ``close`` closes that store."""

    def __init__(self, store: StateStore, app_id: str) -> None:
        self._store = store
        self._app_id = app_id

    def key(self, actor_type: str, actor_id: str, key: str) -> str:
        return SEPARATOR.join((self._app_id, actor_type, actor_id, key))

    async def get(self, actor_type: str, actor_id: str, key: str) -> bytes | None:
        item = await self._store.get(self.key(actor_type, actor_id, key))
        return None if item is None else item.data

    async def transact(self, actor_type: str, actor_id: str, ops: Sequence[ActorOperation]) -> None:
        writes: list[StateOperation] = []
        for op in ops:
            key = self.key(actor_type, actor_id, op.key)
            if op.kind == "upsert":
                metadata = {TTL_METADATA_KEY: str(op.ttl_seconds)} if op.ttl_seconds else {}
                writes.append(SetRequest(key, op.value, metadata=metadata))
            else:
                writes.append(DeleteRequest(key))
        if writes:
            await self._store.multi(writes)

    async def close(self) -> None:
        await self._store.close()


def open_actor_state_store(component: ComponentResource, app_id: str,
                           etcd_endpoints: Sequence[str]) -> StateStoreActorState | None:
    """The actor state store of ``component`` (its own client); None, logged naming it, when it cannot be built."""
    try:
        return StateStoreActorState(open_store(component, etcd_endpoints), app_id)
    except ValueError as err:
        log.error("actor state store not loaded, actors are disabled component=%s error=%s", component.name, err)
        return None

"""Actor state in etcd: the ``state.etcd`` component with ``actorStateStore: "true"``.

Keys are ``<keyPrefixPath>/<app id>||<actor type>||<actor id>||<key>`` (daprd's actor state key layout under the
component's prefix), values the stored bytes. One actor state transaction is one etcd transaction; an upsert
with ``ttlInSeconds`` is attached to an etcd lease of that TTL (one lease per distinct TTL in the transaction,
granted just before it), an upsert without one detaches any earlier lease. ``EtcdActorStateStore`` implements
``state_store.ActorStateStore``; ``open_etcd_state_store`` builds it from the component.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from daprjobs.actors.stateops import StateOperation, collapse
from daprjobs.etcd.store import EtcdStore, op_delete, op_put
from daprjobs.sidecar.config import ComponentResource

log = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "dapr"
SEPARATOR = "||"


@dataclass(frozen=True)
class EtcdStateStoreConfig:
    """What the actor state store needs from its component."""

    name: str
    endpoints: tuple[str, ...]
    key_prefix: str = DEFAULT_KEY_PREFIX

    @classmethod
    def from_component(
        cls, name: str, metadata: dict[str, str], fallback_endpoints: Sequence[str]
    ) -> EtcdStateStoreConfig:
        """``endpoints`` (``host:port[,host:port]``) and ``keyPrefixPath`` from the component's metadata;
        without ``endpoints`` the sidecar's etcd is used."""
        endpoints = tuple(e.strip() for e in metadata.get("endpoints", "").split(",") if e.strip())
        prefix = metadata.get("keyPrefixPath", "").strip().strip("/") or DEFAULT_KEY_PREFIX
        return cls(name=name, endpoints=endpoints or tuple(fallback_endpoints), key_prefix=prefix)


class EtcdActorStateStore:
    """Actor state under one app's keys; ``close`` closes the etcd client it was given."""

    def __init__(self, store: EtcdStore, app_id: str, key_prefix: str = DEFAULT_KEY_PREFIX) -> None:
        self._store = store
        self._app_id = app_id
        self._prefix = key_prefix

    def key(self, actor_type: str, actor_id: str, key: str) -> bytes:
        return f"{self._prefix}/{self._app_id}{SEPARATOR}{actor_type}{SEPARATOR}{actor_id}{SEPARATOR}{key}".encode()

    async def get(self, actor_type: str, actor_id: str, key: str) -> bytes | None:
        kv = await self._store.get(self.key(actor_type, actor_id, key))
        return bytes(kv.value) if kv is not None else None

    async def transact(self, actor_type: str, actor_id: str, ops: Sequence[StateOperation]) -> None:
        """Apply the operations atomically. Raises what etcd raises; nothing is written then."""
        ops = collapse(list(ops))
        if not ops:
            return
        leases: dict[int, int] = {}
        for ttl in sorted({op.ttl_seconds for op in ops if op.kind == "upsert" and op.ttl_seconds}):
            leases[ttl] = await self._store.grant_lease(ttl)
        requests = []
        for op in ops:
            key = self.key(actor_type, actor_id, op.key)
            if op.kind == "upsert":
                requests.append(op_put(key, op.value, leases.get(op.ttl_seconds or 0, 0)))
            else:
                requests.append(op_delete(key))
        await self._store.txn([], requests)

    async def close(self) -> None:
        await self._store.close()


def open_etcd_state_store(
    component: ComponentResource, app_id: str, sidecar_endpoints: Sequence[str]
) -> EtcdActorStateStore | None:
    """The actor state store of ``component`` (its own etcd client); None, logged, when it names no etcd."""
    config = EtcdStateStoreConfig.from_component(component.name, dict(component.metadata), sidecar_endpoints)
    if not config.endpoints:
        log.error("actor state store %s has no etcd endpoints: actors are disabled", component.name)
        return None
    return EtcdActorStateStore(EtcdStore(list(config.endpoints)), app_id, config.key_prefix)

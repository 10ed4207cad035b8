"""The sidecar's state stores: each ``state.*`` component of ``SidecarConfig.resources`` opened once.

Opening does no I/O (etcd and redis clients connect on first use), so a sidecar builds this at construction and
shares it: the State API serves every store, the actor runtime uses the one marked ``actorStateStore``. A component
whose metadata is invalid is logged, naming it, and left out; the others work.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from daprjobs.components.state.api import StateStore
from daprjobs.components.state.etcd_store import EtcdStateSettings, EtcdStateStore
from daprjobs.components.state.keys import IllegalKey, KeyScheme
from daprjobs.components.state.memory import MemoryStateStore
from daprjobs.components.state.redis_store import RedisStateSettings, RedisStateStore
from daprjobs.etcd.store import EtcdStore
from daprjobs.sidecar.config import ComponentResource, SidecarConfig

log = logging.getLogger(__name__)

STATE_TYPES = ("state.etcd", "state.redis", "state.in-memory")
ACTOR_CAPABILITY = "ACTOR"


@dataclass(frozen=True)
class OpenedStateStore:
    component: ComponentResource
    store: StateStore
    keys: KeyScheme

    @property
    def name(self) -> str:
        return self.component.name

    @property
    def is_actor_state_store(self) -> bool:
        return self.component.is_actor_state_store

    def capabilities(self) -> list[str]:
        """What GetMetadata lists for it: the store's features (sorted), plus ACTOR for the actor state store."""
        names = sorted(feature.value for feature in self.store.features())
        return [*names, ACTOR_CAPABILITY] if self.is_actor_state_store else names


def open_store(component: ComponentResource, etcd_endpoints: Sequence[str]) -> StateStore:
    """The store of one ``state.*`` component; raises ValueError naming the component when it cannot be built."""
    if component.type == "state.etcd":
        settings = EtcdStateSettings.from_metadata(component.name, component.metadata, component.version,
                                                   etcd_endpoints)
        if not settings.endpoints:
            raise ValueError(f"state component {component.name!r}: metadata endpoints: no etcd endpoints (give "
                             "endpoints, or run the sidecar with an etcd)")
        return EtcdStateStore(EtcdStore(list(settings.endpoints), tls=settings.tls), settings.key_prefix_path,
                              version=settings.version, max_txn_ops=settings.max_txn_ops)
    if component.type == "state.redis":
        redis_settings = RedisStateSettings.from_metadata(component.name, component.metadata)
        return RedisStateStore(redis_settings.client(), redis_settings.default_ttl_s)
    if component.type == "state.in-memory":
        return MemoryStateStore()
    raise ValueError(f"state component {component.name!r}: type {component.type!r} is not a state store")


class StateStores:
    def __init__(self, stores: Sequence[OpenedStateStore] = ()) -> None:
        self._stores = {opened.name: opened for opened in stores}

    @classmethod
    def open(cls, config: SidecarConfig, etcd_endpoints: Sequence[str]) -> StateStores:
        opened = []
        for component in config.resources:
            if component.type not in STATE_TYPES:
                continue
            try:
                keys = KeyScheme.from_metadata(component.name, component.metadata, config.app_id, config.namespace)
                opened.append(OpenedStateStore(component, open_store(component, etcd_endpoints), keys))
            except (ValueError, IllegalKey) as err:
                log.error("state store not loaded component=%s type=%s source=%s error=%s", component.name,
                          component.type, component.source, err)
        return cls(opened)

    def __len__(self) -> int:
        return len(self._stores)

    def get(self, name: str) -> OpenedStateStore | None:
        return self._stores.get(name)

    def all(self) -> list[OpenedStateStore]:
        return list(self._stores.values())

    def actor_state_store(self) -> OpenedStateStore | None:
        for opened in self._stores.values():
            if opened.is_actor_state_store:
                return opened
        return None

    async def close(self) -> None:
        for opened in self._stores.values():
            try:
                await opened.store.close()
            except Exception as err:
                log.warning("state store did not close cleanly component=%s error=%s", opened.name, err)

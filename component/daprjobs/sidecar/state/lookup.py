"""Finding the store a request names and its key in that store, with daprd's errors (shared by gRPC and HTTP)."""

from __future__ import annotations

from daprjobs.components.state.keys import IllegalKey
from daprjobs.components.state.registry import OpenedStateStore, StateStores
from daprjobs.sidecar.state import errors


class StoreLookup:
    def __init__(self, stores: StateStores, app_id: str) -> None:
        self.stores = stores
        self._app_id = app_id

    def store(self, name: str, *, http: bool) -> OpenedStateStore:
        """The named store; raises daprd's not-configured (no stores at all) or not-found error.
        Over HTTP the error carries the app id, over gRPC it does not (as daprd)."""
        app_id = self._app_id if http else None
        if len(self.stores) == 0:
            raise errors.stores_not_configured(name, app_id)
        opened = self.stores.get(name)
        if opened is None:
            raise errors.store_not_found(name, app_id)
        return opened


def store_key(opened: OpenedStateStore, key: str) -> str:
    """The key in the store for the app's key; raises daprd's illegal-key error."""
    try:
        return opened.keys.store_key(key)
    except IllegalKey as err:
        raise errors.illegal_key(opened.name, err) from None

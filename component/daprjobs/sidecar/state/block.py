"""``StateBlock``: the State API (gRPC and HTTP) over the sidecar's state stores, and their part of GetMetadata."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import grpc
from aiohttp import web
from dapr.proto.runtime.v1 import metadata_pb2

from daprjobs.components.state.registry import StateStores
from daprjobs.sidecar.block import BlockBase, SidecarServices
from daprjobs.sidecar.state.grpc_methods import StateGrpcMethods
from daprjobs.sidecar.state.http_routes import StateHttpRoutes
from daprjobs.sidecar.state.lookup import StoreLookup


class StateBlock(BlockBase):
    """Serves every ``state.*`` component of the resources. The stores are opened once, here, and shared: the
    actor runtime takes ``stores.actor_state_store()`` from this block. Stopping the block closes them."""

    name = "state"

    def __init__(self, services: SidecarServices, stores: StateStores | None = None) -> None:
        cfg = services.config
        self.stores = stores if stores is not None else StateStores.open(cfg, services.etcd_endpoints)
        lookup = StoreLookup(self.stores, cfg.app_id)
        self._grpc = StateGrpcMethods(lookup)
        self._http = StateHttpRoutes(lookup, cfg.max_body_size)

    def grpc_methods(self) -> Mapping[str, grpc.RpcMethodHandler]:
        return self._grpc.handlers()

    def http_routes(self) -> Sequence[web.AbstractRouteDef]:
        return self._http.routes()

    def describe(self, metadata: metadata_pb2.GetMetadataResponse) -> None:
        """Each store's capabilities on its (already listed) component entry: listed once, never twice."""
        for opened in self.stores.all():
            entry = next((c for c in metadata.registered_components if c.name == opened.name), None)
            if entry is None:
                entry = metadata.registered_components.add(name=opened.name, type=opened.component.type,
                                                           version=opened.component.version)
            del entry.capabilities[:]
            entry.capabilities.extend(opened.capabilities())

    async def stop(self) -> None:
        await self.stores.close()

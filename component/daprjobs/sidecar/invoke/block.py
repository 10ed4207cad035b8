"""``InvokeBlock``: service invocation (HTTP ``/v1.0/invoke``, the ``dapr-app-id`` header form, gRPC
``InvokeService``, gRPC proxying), the target side of the sidecar-to-sidecar hop, and this sidecar's entry in name
resolution."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import grpc
from aiohttp import web

from daprjobs.etcd.store import EtcdStore
from daprjobs.sidecar.block import BlockBase, Middleware, SidecarServices, dapr_unary
from daprjobs.sidecar.invoke.appcall import AppInvoker, GrpcAppInvoker, HttpAppInvoker, NoAppInvoker
from daprjobs.sidecar.invoke.grpc_api import InvokeGrpcApi
from daprjobs.sidecar.invoke.hop import HOP_PATH, HopClient
from daprjobs.sidecar.invoke.http_api import InvokeHttpApi
from daprjobs.sidecar.invoke.invoker import Invoker
from daprjobs.sidecar.invoke.nameresolution import DEFAULT_LEASE_TTL_S, AppRegistry
from daprjobs.sidecar.invoke.proxy import GrpcProxy

log = logging.getLogger(__name__)


def app_invoker(services: SidecarServices) -> AppInvoker:
    cfg = services.config
    if not cfg.app_port:
        return NoAppInvoker()
    if cfg.app_protocol == "grpc":
        return GrpcAppInvoker(cfg.app_host, cfg.app_port, cfg.app_api_token, cfg.max_body_size)
    return HttpAppInvoker(services.http_session, cfg.app_host, cfg.app_port, cfg.app_api_token)


class InvokeBlock(BlockBase):
    name = "invoke"

    def __init__(self, services: SidecarServices, lease_ttl_s: int = DEFAULT_LEASE_TTL_S) -> None:
        cfg = services.config
        self._services = services
        self._lease_ttl_s = lease_ttl_s
        self._local = app_invoker(services)
        self._store: EtcdStore | None = None
        self.invoker = Invoker(cfg.app_id, cfg.namespace, self._local, HopClient(services.http_session, cfg.api_token),
                               registry=None)
        self._http = InvokeHttpApi(self.invoker, self._local, cfg.max_body_size)
        self._grpc = InvokeGrpcApi(self.invoker)
        app_address = f"{cfg.app_host}:{cfg.app_port}" if cfg.app_port and cfg.app_protocol == "grpc" else None
        self._proxy = GrpcProxy(self.invoker, app_address, cfg.app_api_token, cfg.api_token, cfg.max_body_size)

    def grpc_methods(self) -> Mapping[str, grpc.RpcMethodHandler]:
        return {"InvokeService": dapr_unary("InvokeService", self._grpc.invoke_service)}

    def grpc_fallbacks(self) -> Sequence[grpc.GenericRpcHandler]:
        return (self._proxy,)

    def http_routes(self) -> Sequence[web.AbstractRouteDef]:
        return (
            web.route("*", "/v1.0/invoke/{tail:.*}", self._http.invoke),
            web.post(HOP_PATH, self._http.hop),
        )

    def http_middlewares(self) -> Sequence[Middleware]:
        return (self._http.header_routing_middleware(),)

    def _own_address(self, port: int) -> str:
        address = self._services.address
        # Other sidecars must be able to dial it: a wildcard listen address is reached on loopback.
        host = address.listen_host if address.listen_host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"{host}:{port}"

    async def start(self) -> None:
        endpoints = self._services.etcd_endpoints
        if not endpoints:
            log.info("no etcd: service invocation reaches only this sidecar's own app app_id=%s",
                     self._services.config.app_id)
            return
        cfg = self._services.config
        self._store = EtcdStore(endpoints)
        address = self._services.address
        registry = AppRegistry(self._store, cfg.namespace, cfg.app_id, self._own_address(address.http_port),
                               self._lease_ttl_s, grpc_address=self._own_address(address.grpc_port))
        await registry.start()
        self.invoker.registry = registry

    async def stop(self) -> None:
        registry, self.invoker.registry = self.invoker.registry, None
        if registry is not None:
            await registry.stop()
        if self._store is not None:
            await self._store.close()
            self._store = None
        await self._local.close()
        await self._proxy.close()

"""``JobsBlock``: the Jobs API (gRPC and HTTP) and the delivery of app job triggers to the app."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import grpc
from aiohttp import web

from daprjobs.sidecar.block import BlockBase, SidecarServices, TriggerConsumer
from daprjobs.sidecar.jobs.api import JobsApi
from daprjobs.sidecar.jobs.app_channel import GrpcJobAppChannel, HttpJobAppChannel, JobAppChannel
from daprjobs.sidecar.jobs.delivery import JobTriggerConsumer
from daprjobs.sidecar.jobs.grpc_methods import JobsGrpcMethods
from daprjobs.sidecar.jobs.http_routes import JobsHttpRoutes


def job_app_channel(services: SidecarServices) -> JobAppChannel | None:
    """How job triggers reach the app: gRPC ``OnJobEvent`` or HTTP ``POST /job/<name>``; none without an app port."""
    cfg = services.config
    if not cfg.app_port:
        return None
    if cfg.app_protocol == "grpc":
        return GrpcJobAppChannel(cfg.app_host, cfg.app_port, cfg.app_api_token, cfg.max_body_size)
    return HttpJobAppChannel(services.http_session, cfg.app_host, cfg.app_port, cfg.app_api_token)


class JobsBlock(BlockBase):
    name = "jobs"

    def __init__(self, services: SidecarServices) -> None:
        cfg = services.config
        self.api = JobsApi(services.scheduler, cfg.app_id, cfg.namespace)
        self._app_channel = job_app_channel(services)
        self._grpc = JobsGrpcMethods(self.api)
        self._http = JobsHttpRoutes(self.api, cfg.max_body_size)
        self._consumer = JobTriggerConsumer(self._app_channel, services.app_health, cfg.app_id)

    def grpc_methods(self) -> Mapping[str, grpc.RpcMethodHandler]:
        return self._grpc.handlers()

    def http_routes(self) -> Sequence[web.AbstractRouteDef]:
        return self._http.routes()

    def trigger_consumers(self) -> Sequence[TriggerConsumer]:
        return (self._consumer,)

    async def stop(self) -> None:
        if self._app_channel is not None:
            await self._app_channel.close()

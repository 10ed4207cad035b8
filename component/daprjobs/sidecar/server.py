"""``Sidecar``: the gRPC and HTTP Dapr APIs composed from building blocks, the Scheduler link and app health.

Start order matters for SDK apps: both API servers listen before anything waits on the app (Python apps
block on ``/v1.0/healthz/outbound`` before they serve), and job streams open only once the app answers.
Blocks start after both servers are bound, in order; a block that fails to start is logged and the others
keep serving. Stop runs in reverse.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import grpc
from aiohttp import web
from dapr.proto.runtime.v1 import metadata_pb2
from prometheus_client import CONTENT_TYPE_LATEST

from daprjobs.scheduler.local_endpoint import LocalEndpoint
from daprjobs.security.tls import add_port
from daprjobs.sidecar.apphealth import AppHealthMonitor
from daprjobs.sidecar.assembly import build_blocks
from daprjobs.sidecar.block import BuildingBlock, SidecarAddress, SidecarServices
from daprjobs.sidecar.config import SidecarConfig
from daprjobs.sidecar.grpc_server import ApiTokenInterceptor, DaprServiceRouter, merge_block_methods
from daprjobs.sidecar.http_server import build_http_app
from daprjobs.sidecar.metadata import base_response
from daprjobs.sidecar.metrics import SidecarMetrics
from daprjobs.sidecar.runtime_info import RuntimeInfoBlock
from daprjobs.sidecar.schedulerlink.client import SchedulerClient
from daprjobs.sidecar.trigger_router import TriggerRouter

log = logging.getLogger(__name__)

BlockFactory = Callable[[SidecarServices], list[BuildingBlock]]
STOP_STEP_TIMEOUT_S = 15.0


class Sidecar:
    def __init__(self, config: SidecarConfig, *, blocks: BlockFactory = build_blocks,
                 local_scheduler: LocalEndpoint | None = None) -> None:
        self.config = config
        self.metrics = SidecarMetrics(config.app_id)
        # local_scheduler: a replica in this process (daprjobs run), reached without gRPC.
        self._local_scheduler = local_scheduler
        self.scheduler = self._scheduler_link(config.app_id, config.scheduler_job_streams)
        self.extended_metadata: dict[str, str] = {}
        self.app_health: AppHealthMonitor | None = None
        self.blocks: list[BuildingBlock] = []
        self.address = SidecarAddress(listen_host=config.listen_host)
        self.metrics_port: int | None = None
        self._block_factory = blocks
        self._started_blocks: list[BuildingBlock] = []
        self._session: aiohttp.ClientSession | None = None
        self._grpc_server: grpc.aio.Server | None = None
        self._http_runner: web.AppRunner | None = None
        self._metrics_runner: web.AppRunner | None = None
        self._ready = False

    def _scheduler_link(self, app_id: str, streams_per_host: int) -> SchedulerClient:
        cfg = self.config
        return SchedulerClient(cfg.scheduler_host_addresses, app_id, cfg.namespace, streams_per_host=streams_per_host,
                               local=self._local_scheduler, security=cfg.scheduler_link)

    def _open_jobs_link(self, app_id: str) -> SchedulerClient:
        """A block's own link (one stream per host): see ``SidecarServices.open_jobs_link``."""
        return self._scheduler_link(app_id, 1)

    @property
    def ready(self) -> bool:
        return self._ready

    @property
    def grpc_port(self) -> int:
        return self.address.grpc_port

    @property
    def http_port(self) -> int:
        return self.address.http_port

    async def start(self) -> None:
        cfg = self.config
        # Idle app connections are dropped after 2 s, before common servers drop them (uvicorn: 5 s), so a
        # call is not sent on a connection the app is closing. Up to 1000 calls to the app at once
        # (daprd has no cap; this one keeps a flood of triggers from exhausting file descriptors).
        connector = aiohttp.TCPConnector(limit=1000, keepalive_timeout=2.0)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=None, sock_connect=5)
        )
        if cfg.app_port:
            self.app_health = AppHealthMonitor(
                cfg.app_host, cfg.app_port, self.scheduler.set_app_target,
                interval_s=cfg.app_health_probe_interval_s, threshold=cfg.app_health_threshold,
            )
        else:
            log.info("no --app-port: nothing is delivered to an app app_id=%s", cfg.app_id)
        services = SidecarServices(
            config=cfg, scheduler=self.scheduler, http_session=self._session, metrics=self.metrics,
            app_health=self.app_health, etcd_endpoints=cfg.resolved_etcd_endpoints(), address=self.address,
            open_jobs_link=self._open_jobs_link if cfg.scheduler_host_addresses else None,
        )
        info = RuntimeInfoBlock(cfg.app_id, cfg.max_body_size, self.metadata, lambda: self._ready,
                                self.extended_metadata)
        self.blocks = [info, *self._block_factory(services)]
        consumers = [consumer for block in self.blocks for consumer in block.trigger_consumers()]
        self.scheduler.set_trigger_handler(TriggerRouter(consumers, self.metrics, cfg.app_id))
        self.metrics.track_streams(self.scheduler.connected_stream_count)

        await self._start_grpc()
        await self._start_http()
        await self._start_metrics()
        await self.scheduler.start()
        if self.app_health is not None:
            self.app_health.start()
        for block in self.blocks:
            await self._start_block(block)
        self._ready = True
        log.info("sidecar ready app_id=%s http_port=%d grpc_port=%d scheduler=%s blocks=%s", cfg.app_id,
                 self.http_port, self.grpc_port, ",".join(cfg.scheduler_host_addresses) or "none",
                 ",".join(b.name for b in self.blocks))

    async def _start_block(self, block: BuildingBlock) -> None:
        try:
            await block.start()
        except Exception:
            log.exception("building block failed to start, its API answers errors block=%s app_id=%s",
                          block.name, self.config.app_id)
            return
        self._started_blocks.append(block)

    async def _start_grpc(self) -> None:
        cfg = self.config
        interceptors = [ApiTokenInterceptor(cfg.api_token)] if cfg.api_token else []
        server = grpc.aio.server(
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", cfg.max_body_size),
                ("grpc.max_send_message_length", cfg.max_body_size),
                ("grpc.so_reuseport", 0),
            ],
        )
        methods = merge_block_methods([(block.name, block.grpc_methods()) for block in self.blocks])
        fallbacks = [handler for block in self.blocks for handler in block.grpc_fallbacks()]
        server.add_generic_rpc_handlers((DaprServiceRouter(methods, fallbacks),))
        address = f"{cfg.listen_host}:{cfg.dapr_grpc_port}"
        try:
            self.address.grpc_port = add_port(server, address, cfg.grpc_tls)
        except RuntimeError as exc:
            raise OSError(f"cannot listen for the gRPC API on {address}: {exc}") from exc
        await server.start()
        self._grpc_server = server

    async def _start_http(self) -> None:
        cfg = self.config
        app = build_http_app(
            [route for block in self.blocks for route in block.http_routes()],
            [middleware for block in self.blocks for middleware in block.http_middlewares()],
            api_token=cfg.api_token, metrics=self.metrics, max_body_size=cfg.max_body_size,
        )
        # In-flight requests get a few seconds to finish when the sidecar stops, not aiohttp's default minute.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        site = web.TCPSite(runner, cfg.listen_host, cfg.dapr_http_port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise OSError(f"cannot listen for the HTTP API on {cfg.listen_host}:{cfg.dapr_http_port}: {exc}") from exc
        self._http_runner = runner
        self.address.http_port = _bound_port(runner)

    async def _start_metrics(self) -> None:
        port = self.config.metrics_port
        if not port:
            return
        app = web.Application()

        async def serve(_: web.Request) -> web.Response:
            return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

        app.router.add_get("/metrics", serve)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.config.listen_host, port).start()
        except OSError as exc:
            # daprd would refuse to start; a busy metrics port should not cost the app its jobs.
            log.warning("metrics disabled: cannot listen on port=%d error=%s", port, exc)
            await runner.cleanup()
            return
        self._metrics_runner = runner
        self.metrics_port = _bound_port(runner)

    def metadata(self) -> metadata_pb2.GetMetadataResponse:
        resp = base_response(self.config, self.scheduler.connected_addresses, self.extended_metadata)
        for block in self.blocks:
            try:
                block.describe(resp)
            except Exception:
                log.exception("building block failed to describe itself block=%s", block.name)
        return resp

    async def stop(self) -> None:
        """Stop serving, then the blocks (in reverse), app probing, the scheduler link and the HTTP session.

        Each step is bounded: a part that hangs is logged and skipped, so stopping always finishes.
        """
        self._ready = False
        if self._http_runner is not None:
            await self._bounded("http api", self._http_runner.cleanup())
            self._http_runner = None
        if self._grpc_server is not None:
            await self._bounded("grpc api", self._grpc_server.stop(grace=1.0))
            self._grpc_server = None
        for block in reversed(self._started_blocks):
            await self._bounded(f"block {block.name}", block.stop())
        self._started_blocks.clear()
        if self.app_health is not None:
            await self._bounded("app health", self.app_health.stop())
        await self._bounded("scheduler client", self.scheduler.stop())
        if self._metrics_runner is not None:
            await self._bounded("metrics", self._metrics_runner.cleanup())
            self._metrics_runner = None
        if self._session is not None:
            await self._bounded("http session", self._session.close())
            self._session = None
        log.info("sidecar stopped app_id=%s", self.config.app_id)

    async def _bounded(self, part: str, step: Awaitable[Any], timeout_s: float = STOP_STEP_TIMEOUT_S) -> None:
        try:
            await asyncio.wait_for(step, timeout_s)
        except TimeoutError:
            log.error("sidecar stop: %s did not stop within %.0fs, skipped app_id=%s", part, timeout_s,
                      self.config.app_id)
        except Exception:
            log.exception("sidecar stop: %s failed to stop app_id=%s", part, self.config.app_id)


def _bound_port(runner: web.AppRunner) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    raise RuntimeError("the HTTP server did not bind a TCP port")

"""``Sidecar``: the gRPC and HTTP Dapr APIs, the Scheduler connection, app health and trigger delivery, wired.

Start order matters for SDK apps: both API servers listen before anything waits on the app (Python apps
block on ``/v1.0/healthz/outbound`` before they serve), and job streams open only once the app answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Awaitable
from typing import Any

import aiohttp
import grpc
from aiohttp import web
from dapr.proto.runtime.v1 import dapr_pb2_grpc, metadata_pb2
from prometheus_client import CONTENT_TYPE_LATEST

from daprjobs.sidecar.appchannel import AppChannel, GrpcAppChannel, HttpAppChannel
from daprjobs.sidecar.apphealth import AppHealthMonitor
from daprjobs.sidecar.config import SidecarConfig
from daprjobs.sidecar.context import SidecarContext
from daprjobs.sidecar.delivery import TriggerDelivery
from daprjobs.sidecar.grpc_api import ApiTokenInterceptor, DaprApiServicer
from daprjobs.sidecar.http_api import DaprHttpApi
from daprjobs.sidecar.jobs_api import JobsApi
from daprjobs.sidecar.metadata import MetadataSnapshot, build_response, response_json
from daprjobs.sidecar.metrics import SidecarMetrics
from daprjobs.sidecar.schedclient import SchedulerClient

log = logging.getLogger(__name__)

ACTOR_RUNTIME_MODULE = "daprjobs.actors.runtime"


def load_actor_runtime_class() -> Any | None:
    """``daprjobs.actors.runtime.ActorRuntime`` if it imports; without it the sidecar runs without actors."""
    try:
        module = importlib.import_module(ACTOR_RUNTIME_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name and ACTOR_RUNTIME_MODULE.startswith(exc.name):
            log.info("no actor runtime available, actors are disabled")
            return None
        log.exception("actor runtime failed to import, actors are disabled")
        return None
    except Exception:
        log.exception("actor runtime failed to import, actors are disabled")
        return None
    return getattr(module, "ActorRuntime", None)


class Sidecar:
    def __init__(self, config: SidecarConfig, *, enable_actors: bool = True) -> None:
        self.config = config
        self.enable_actors = enable_actors
        self.metrics = SidecarMetrics(config.app_id)
        self.scheduler = SchedulerClient(
            config.scheduler_host_addresses,
            config.app_id,
            config.namespace,
            streams_per_host=config.scheduler_job_streams,
        )
        self.jobs = JobsApi(self.scheduler, config.app_id, config.namespace)
        self.extended_metadata: dict[str, str] = {}
        self.actors: Any | None = None
        self.app_health: AppHealthMonitor | None = None
        self.app_channel: AppChannel | None = None
        self.context: SidecarContext | None = None
        self.grpc_port = 0
        self.http_port = 0
        self.metrics_port: int | None = None
        self._session: aiohttp.ClientSession | None = None
        self._grpc_server: grpc.aio.Server | None = None
        self._http_runner: web.AppRunner | None = None
        self._metrics_runner: web.AppRunner | None = None
        self._actor_start: asyncio.Task[None] | None = None
        self._ready = False

    @property
    def ready(self) -> bool:
        return self._ready

    async def start(self) -> None:
        cfg = self.config
        # Idle app connections are dropped after 2 s, before common servers drop them (uvicorn: 5 s), so a
        # trigger is not sent on a connection the app is closing. Up to 1000 calls to the app at once
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
            if cfg.app_protocol == "grpc":
                self.app_channel = GrpcAppChannel(cfg.app_host, cfg.app_port, cfg.app_api_token, cfg.max_body_size)
            else:
                self.app_channel = HttpAppChannel(self._session, cfg.app_host, cfg.app_port, cfg.app_api_token)
        else:
            log.info("no --app-port: jobs are not delivered to an app")
        self.context = SidecarContext(
            config=cfg,
            scheduler=self.scheduler,
            http_session=self._session,
            etcd_endpoints=cfg.resolved_etcd_endpoints(),
            app_health=self.app_health,
        )
        runtime_class = load_actor_runtime_class() if self.enable_actors else None
        if runtime_class is not None:
            try:
                self.actors = runtime_class(self.context)
            except Exception:
                log.exception("actor runtime could not be created, actors are disabled")
                self.actors = None
        self.scheduler.set_trigger_handler(
            TriggerDelivery(self.app_channel, self.app_health, lambda: self.actors, self.metrics)
        )
        self.metrics.track_streams(self.scheduler.connected_stream_count)

        await self._start_grpc()
        await self._start_http()
        self.context.grpc_port = self.grpc_port
        self.context.http_port = self.http_port
        self.context.host_address = f"{cfg.listen_host}:{self.http_port}"
        await self._start_metrics()

        await self.scheduler.start()
        if self.app_health is not None:
            self.app_health.start()
        if self.actors is not None:
            self._actor_start = asyncio.create_task(self._run_actor_start(), name="actor-runtime-start")
        self._ready = True
        log.info("sidecar ready app_id=%s http_port=%d grpc_port=%d scheduler=%s", cfg.app_id, self.http_port,
                 self.grpc_port, ",".join(cfg.scheduler_host_addresses) or "none")

    async def _run_actor_start(self) -> None:
        assert self.actors is not None
        try:
            await self.actors.start()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("actor runtime failed to start")

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
        servicer = DaprApiServicer(self.jobs, self.metadata, lambda: self.actors, self.extended_metadata)
        dapr_pb2_grpc.add_DaprServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
        address = f"{cfg.listen_host}:{cfg.dapr_grpc_port}"
        try:
            self.grpc_port = server.add_insecure_port(address)
        except RuntimeError as exc:
            raise OSError(f"cannot listen for the gRPC API on {address}: {exc}") from exc
        await server.start()
        self._grpc_server = server

    async def _start_http(self) -> None:
        cfg = self.config
        api = DaprHttpApi(self.jobs, cfg.app_id, cfg.max_body_size, self.metadata_json, self.extended_metadata,
                          lambda: self._ready)
        app = api.build_app(cfg.api_token, self.metrics)
        if self.actors is not None:
            try:
                self.actors.add_http_routes(app)
            except Exception:
                log.exception("actor runtime HTTP routes could not be added")
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
        self.http_port = _bound_port(runner)

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

    def metadata_snapshot(self) -> MetadataSnapshot:
        cfg = self.config
        counts: dict[str, int] = {}
        host_ready = False
        if self.actors is not None:
            with contextlib.suppress(Exception):
                counter = getattr(self.actors, "active_actor_counts", None)
                counts = dict(counter()) if counter is not None else {t: 0 for t in self.actors.hosted_types()}
                host_ready = bool(self.actors.hosted_types())
        return MetadataSnapshot(
            app_id=cfg.app_id,
            app_port=cfg.app_port,
            app_protocol=cfg.app_protocol,
            app_host=cfg.app_host,
            components=cfg.resources,
            scheduler_addresses=self.scheduler.hosts,
            actor_runtime_present=self.actors is not None,
            actor_counts=counts,
            actor_host_ready=host_ready,
            extended=dict(self.extended_metadata),
        )

    def metadata(self) -> metadata_pb2.GetMetadataResponse:
        return build_response(self.metadata_snapshot())

    def metadata_json(self) -> dict[str, Any]:
        return response_json(self.metadata())

    async def stop(self) -> None:
        """Stop serving, then the actor runtime, app probing, scheduler streams and app channel.

        Each step is bounded: a part that hangs is logged and skipped, so stopping always finishes.
        """
        self._ready = False
        if self._http_runner is not None:
            await self._bounded("http api", self._http_runner.cleanup())
            self._http_runner = None
        if self._grpc_server is not None:
            await self._bounded("grpc api", self._grpc_server.stop(grace=1.0))
            self._grpc_server = None
        if self._actor_start is not None:
            self._actor_start.cancel()
            await self._bounded("actor runtime start", asyncio.gather(self._actor_start, return_exceptions=True))
        if self.actors is not None:
            await self._bounded("actor runtime", self.actors.stop())
        if self.app_health is not None:
            await self._bounded("app health", self.app_health.stop())
        await self._bounded("scheduler client", self.scheduler.stop())
        if self.app_channel is not None:
            await self._bounded("app channel", self.app_channel.close())
        if self._metrics_runner is not None:
            await self._bounded("metrics", self._metrics_runner.cleanup())
            self._metrics_runner = None
        if self._session is not None:
            await self._bounded("http session", self._session.close())
            self._session = None
        log.info("sidecar stopped app_id=%s", self.config.app_id)

    async def _bounded(self, part: str, step: Awaitable[Any], timeout_s: float = 15.0) -> None:
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

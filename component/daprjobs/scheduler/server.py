"""One scheduler replica: etcd, membership, informer, engine and the gRPC API, wired together."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import grpc
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from daprjobs.core.clock import Clock, SystemClock
from daprjobs.core.jobspec import MIN_EVERY_INTERVAL_NS
from daprjobs.etcd.api import Store
from daprjobs.etcd.keyspace import Keyspace
from daprjobs.etcd.store import EtcdStore
from daprjobs.etcd.tls_client import EtcdClientTls
from daprjobs.proto.scheduler.v1 import scheduler_pb2_grpc
from daprjobs.scheduler.api import SchedulerService
from daprjobs.scheduler.counterwriter import CounterWriter
from daprjobs.scheduler.dispatcher import TriggerDispatcher
from daprjobs.scheduler.engine import Engine
from daprjobs.scheduler.informer import JobInformer
from daprjobs.scheduler.jobwriter import JobWriter
from daprjobs.scheduler.local_endpoint import LocalEndpoint
from daprjobs.scheduler.membership import Membership
from daprjobs.scheduler.metrics import SchedulerMetrics
from daprjobs.scheduler.ownership import OwnershipCoordinator
from daprjobs.security.tls import ServerTls, add_port
from daprjobs.security.token import TokenCheckInterceptor

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024


@dataclass
class SchedulerConfig:
    replica_id: str = "dapr-scheduler-server-0"
    listen_host: str = "127.0.0.1"
    port: int = 50006
    etcd_endpoints: list[str] = field(default_factory=lambda: ["http://127.0.0.1:2379"])
    etcd_username: str | None = None
    etcd_password: str | None = field(default=None, repr=False)
    etcd_tls: EtcdClientTls | None = None
    # The gRPC API over TLS (mutual when tls.client_ca_file is set), and the token every caller must send.
    tls: ServerTls | None = None
    api_token: str | None = field(default=None, repr=False)
    key_prefix: str = "dapr"
    lease_ttl_s: int = 10
    healthz_port: int | None = None
    metrics_port: int | None = None
    broadcast_address: str | None = None
    # etcd's own default; the embedded etcd allows far more, and bigger batches write faster.
    etcd_max_txn_ops: int = 128
    max_job_bytes: int = 4 * 1024 * 1024 + 64 * 1024
    max_inflight: int = 10_000
    min_every_interval_ns: int = MIN_EVERY_INTERVAL_NS


class SchedulerReplica:
    def __init__(self, config: SchedulerConfig, clock: Clock | None = None, store: Store | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.keys = Keyspace(config.key_prefix)
        # A test may hand in a MemoryStore; otherwise the configured etcd.
        self.store: Store = store or EtcdStore(config.etcd_endpoints, config.etcd_username, config.etcd_password,
                                               tls=config.etcd_tls)
        self.metrics = SchedulerMetrics()
        self.dispatcher = TriggerDispatcher()
        self.writer = CounterWriter(self.store, self.keys, config.etcd_max_txn_ops)
        self.job_writer = JobWriter(self.store, config.etcd_max_txn_ops)
        self.ready = asyncio.Event()
        self.address = ""
        self._server: grpc.aio.Server | None = None
        self._http_runners: list[web.AppRunner] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.membership: Membership | None = None
        self.engine: Engine | None = None
        self.informer: JobInformer | None = None
        self.coordinator: OwnershipCoordinator | None = None
        self.service: SchedulerService | None = None
        self._serving = False

    async def start(self) -> None:
        cfg = self.config
        await self.store.connect()
        interceptors = [TokenCheckInterceptor(cfg.api_token)] if cfg.api_token else []
        server = grpc.aio.server(interceptors=interceptors, options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.keepalive_time_ms", 3000),
            ("grpc.keepalive_timeout_ms", 5000),
            ("grpc.http2.min_ping_interval_without_data_ms", 1000),
            ("grpc.keepalive_permit_without_calls", 1),
        ])
        port = add_port(server, f"{cfg.listen_host}:{cfg.port}", cfg.tls)
        self.address = cfg.broadcast_address or f"{_advertised_host(cfg.listen_host)}:{port}"
        self.membership = Membership(self.store, self.keys, cfg.replica_id, self.address, cfg.lease_ttl_s)
        engine = Engine(self.store, self.keys, self.clock, self.dispatcher, self.writer, self.metrics,
                        cfg.replica_id, cfg.max_inflight, index=lambda: informer.index)
        informer = JobInformer(self.store, self.keys, sink=engine)
        self.engine, self.informer = engine, informer
        self.coordinator = OwnershipCoordinator(self.membership, self.engine, self.metrics)
        service = SchedulerService(self.store, self.keys, self.clock, self.dispatcher, self.metrics,
                                   self.coordinator.hosts, self.ready, cfg.max_job_bytes, self.job_writer,
                                   min_every_interval_ns=cfg.min_every_interval_ns)
        scheduler_pb2_grpc.add_SchedulerServicer_to_server(service, server)
        self.service = service
        self._tasks.append(asyncio.create_task(self.job_writer.run(), name="job-writer"))
        await server.start()
        self._server = server
        self._serving = True
        await self._start_http()
        await self.membership.join()
        self.membership.start()
        self._tasks += [
            asyncio.create_task(self.writer.run(), name="counter-writer"),
            asyncio.create_task(self.informer.run(), name="informer"),
            asyncio.create_task(self.engine.run(), name="engine"),
            asyncio.create_task(self.coordinator.run(), name="ownership"),
        ]
        await self.informer.synced.wait()
        await self.coordinator.settled.wait()
        self.ready.set()
        log.info("scheduler replica ready replica=%s address=%s", cfg.replica_id, self.address)

    async def stop(self, settle_timeout_s: float = 3.0) -> None:
        """Stop triggering, settle what is in flight, then leave membership so peers take over at once."""
        if self.engine is not None:
            from daprjobs.core.partition import PartitionTable

            for task in self._tasks:
                if task.get_name() == "ownership":
                    task.cancel()
            await self.engine.stop_activation()
            try:
                await asyncio.wait_for(self.engine.apply_table(PartitionTable.inactive(), settle_timeout_s),
                                       settle_timeout_s + 2)
            except Exception:
                log.exception("settling in-flight triggers on stop failed")
        if self.membership is not None:
            await self.membership.leave()
        if self._server is not None:
            await self._server.stop(grace=1.0)
        self._serving = False
        # In-process streams (``local_endpoint``) end here, as the gRPC server's just did.
        self.dispatcher.close_all()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for runner in self._http_runners:
            await runner.cleanup()
        await self.store.close()
        log.info("scheduler replica stopped replica=%s", self.config.replica_id)

    def local_endpoint(self) -> LocalEndpoint:
        """This replica for sidecars in the same process (``daprjobs run``); call after ``start``."""
        if self.service is None:
            raise RuntimeError("scheduler replica not started")
        return LocalEndpoint(self.address, self.service, lambda: self._serving)

    async def _start_http(self) -> None:
        cfg = self.config
        if cfg.healthz_port is not None:
            app = web.Application()
            app.router.add_get("/healthz", self._healthz)
            app.router.add_get("/readyz", self._healthz)
            await self._serve(app, cfg.healthz_port)
        if cfg.metrics_port is not None:
            app = web.Application()
            app.router.add_get("/metrics", self._metrics)
            await self._serve(app, cfg.metrics_port)

    async def _serve(self, app: web.Application, port: int) -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.config.listen_host, port).start()
        self._http_runners.append(runner)

    async def _healthz(self, request: web.Request) -> web.Response:
        healthy = self.ready.is_set() and self.membership is not None and not self.membership.fenced
        return web.Response(status=200 if healthy else 503, text="ok" if healthy else "not ready")

    async def _metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _advertised_host(listen_host: str) -> str:
    if listen_host in ("0.0.0.0", "", "::"):
        import socket

        return socket.gethostbyname(socket.gethostname())
    return listen_host

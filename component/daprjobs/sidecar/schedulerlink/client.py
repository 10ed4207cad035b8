"""``SchedulerClient``: the sidecar's link to the Scheduler (daprd ``pkg/runtime/scheduler``).

Three parts, one module each: ``HostDiscovery`` (which replicas exist, from WatchHosts), ``SchedulerJobsClient``
(unary calls over the live replicas) and ``TriggerStream`` (``streams_per_host`` WatchJobs streams to *every*
host — a replica delivers only over streams opened to it — open only while the app answers or actor types
exist). This class wires them: a host change rebuilds the unary channels and reconciles the streams; a change
of what the streams should carry reopens them (as daprd does).

With a ``local`` replica (one in this process, ``daprjobs run``) unary calls and the streams to that replica use
the in-process transport (``local_transport``); other replicas are still reached over gRPC.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Iterable

import grpc

from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.scheduler.local_endpoint import LocalEndpoint
from daprjobs.security.link import PLAINTEXT, SchedulerLinkSecurity
from daprjobs.sidecar.block import AckStatus
from daprjobs.sidecar.jobsclient import UnaryJobs
from daprjobs.sidecar.schedulerlink.channels import rpc_error
from daprjobs.sidecar.schedulerlink.grpc_transport import ASKED_BATCH, GrpcTriggerTransport
from daprjobs.sidecar.schedulerlink.host_discovery import HostDiscovery
from daprjobs.sidecar.schedulerlink.jobs_client import SchedulerJobsClient
from daprjobs.sidecar.schedulerlink.local_transport import LocalJobs, LocalTriggerTransport
from daprjobs.sidecar.schedulerlink.transport import TriggerTransport
from daprjobs.sidecar.schedulerlink.trigger_stream import StreamIdentity, StreamTarget, TriggerHandler, TriggerStream

log = logging.getLogger(__name__)

# Triggers one sidecar holds at once (over all its streams): the app-call limit of the jobs block
# (``MAX_CONCURRENT_APP_CALLS``). Beyond it the streams stop reading and triggers wait in the Scheduler, instead of
# ~9,000 tasks queueing on the app-call semaphore (~10% of the sidecar's CPU in the trigger bench).
MAX_TRIGGERS_IN_HAND = 1000


class SchedulerClient:
    """Implements ``JobsClient`` for the blocks; runs host discovery and the trigger streams."""

    def __init__(
        self,
        addresses: Iterable[str],
        app_id: str,
        namespace: str,
        *,
        streams_per_host: int = 3,
        handler: TriggerHandler | None = None,
        rpc_timeout_s: float = 30.0,
        rng: random.Random | None = None,
        local: LocalEndpoint | None = None,
        security: SchedulerLinkSecurity = PLAINTEXT,
        max_triggers_in_hand: int = MAX_TRIGGERS_IN_HAND,
        trigger_batch: int = ASKED_BATCH,
    ) -> None:
        self.addresses = [a.strip() for a in addresses if a.strip()]
        self.app_id = app_id
        self.namespace = namespace
        self.streams_per_host = streams_per_host
        self.rng = rng or random.Random()
        self._handler = handler
        self._security = security
        self._jobs = SchedulerJobsClient(self.rng, rpc_timeout_s, security)
        self._local = local
        self._local_jobs = LocalJobs(local, rpc_timeout_s) if local is not None else None
        self._gate = asyncio.Semaphore(max_triggers_in_hand)
        # Triggers per message asked of daprjobs schedulers over gRPC (1: Dapr's protocol, as daprd speaks it).
        self._trigger_batch = trigger_batch
        self._app_target = False
        self._actor_types: tuple[str, ...] = ()
        self._streams: dict[str, list[TriggerStream]] = {}
        self._stream_target = StreamTarget(app=False, actor_types=())
        self._reconcile = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # ----- lifecycle -----

    async def start(self) -> None:
        if not self.addresses:
            log.warning("no --scheduler-host-address: the Jobs API and job delivery are disabled")
            return
        discovery = HostDiscovery(self.addresses, self._apply_hosts, self.rng, self._security,
                                  on_refused=self._jobs.refuse)
        self._tasks.append(asyncio.create_task(discovery.run(), name="scheduler-watchhosts"))
        self._tasks.append(asyncio.create_task(self._connector_loop(), name="scheduler-connector"))

    async def stop(self, handler_grace_s: float = 5.0) -> None:
        self._jobs.stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        handlers = [h for streams in self._streams.values() for s in streams for h in s.handlers]
        await self._close_streams(list(self._streams))
        if handlers:
            await asyncio.wait(handlers, timeout=handler_grace_s)
        await self._jobs.close()

    def set_trigger_handler(self, handler: TriggerHandler) -> None:
        self._handler = handler

    # ----- what the streams should carry (synchronous: they only record the wish) -----

    def set_app_target(self, on: bool) -> None:
        """The app answers (``True``) or not: job streams carry app jobs only while it does."""
        if on != self._app_target:
            self._app_target = on
            self._reconcile.set()

    def set_actor_types(self, types: list[str]) -> None:
        """(Re)open the job streams with these actor types (sorted, de-duplicated; unchanged = no-op)."""
        normalized = tuple(sorted(set(types)))
        if normalized != self._actor_types:
            self._actor_types = normalized
            self._reconcile.set()

    @property
    def app_target(self) -> bool:
        return self._app_target

    @property
    def actor_types(self) -> list[str]:
        return list(self._actor_types)

    @property
    def hosts(self) -> list[str]:
        return self._jobs.hosts

    @property
    def connected_addresses(self) -> list[str]:
        """Hosts with an open job stream; without streams, the hosts not suspected of being down."""
        if self._streams:
            return sorted(h for h, streams in self._streams.items() if any(s.connected for s in streams))
        return self._jobs.live_hosts()

    def connected_stream_count(self) -> int:
        return sum(1 for streams in self._streams.values() for s in streams if s.connected)

    async def run_handler(self, trigger: scheduler_pb2.WatchJobsResponse) -> AckStatus | None:
        if self._handler is None:
            log.error("trigger received but no handler is set name=%s", trigger.name)
            return scheduler_pb2.FAILED
        return await self._handler(trigger)

    # ----- hosts and streams -----

    def _apply_hosts(self, hosts: list[str]) -> None:
        if tuple(hosts) == tuple(self._jobs.hosts):
            return  # rebuilding would abort in-flight triggers for nothing
        log.info("scheduler hosts changed hosts=%s", ",".join(hosts))
        self._jobs.set_hosts(hosts)
        self._reconcile.set()

    async def _connector_loop(self) -> None:
        while True:
            await self._reconcile.wait()
            self._reconcile.clear()
            try:
                await self._reconcile_streams()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("failed to reconcile scheduler job streams app_id=%s", self.app_id)

    async def _reconcile_streams(self) -> None:
        target = StreamTarget(app=self._app_target, actor_types=self._actor_types)
        hosts = set(self._jobs.hosts) if target.active else set()
        had_streams = bool(self._streams)
        if target != self._stream_target:
            # A new initial message: every stream is reopened (as daprd does).
            await self._close_streams(list(self._streams))
            self._stream_target = target
        else:
            await self._close_streams([h for h in self._streams if h not in hosts])
        for host in sorted(hosts - set(self._streams)):
            transport, count = self._transport(host)
            self._streams[host] = [
                TriggerStream(StreamIdentity(host, i, self.app_id, self.namespace), target, self.run_handler,
                              transport, self._gate, self.rng)
                for i in range(count)
            ]
        if self._streams:
            log.info("opening scheduler job streams hosts=%s streams_per_host=%d app=%s actor_types=%s",
                     ",".join(sorted(self._streams)), self.streams_per_host, target.app, ",".join(target.actor_types))
        elif had_streams:
            log.info("scheduler job streams closed (the app does not answer and no actor types are registered)")

    def _transport(self, host: str) -> tuple[TriggerTransport, int]:
        """How to reach ``host`` and with how many streams (in-process: one; several buy nothing there)."""
        if self._local is not None and host == self._local.address:
            return LocalTriggerTransport(self._local), 1
        return GrpcTriggerTransport(host, self._security, self._trigger_batch), self.streams_per_host

    async def _close_streams(self, hosts: list[str]) -> None:
        streams = [s for h in hosts for s in self._streams.pop(h, [])]
        await asyncio.gather(*(s.close() for s in streams))

    # ----- JobsClient -----

    def _unary(self) -> UnaryJobs:
        """The in-process replica while it serves (any replica serves the unary API from etcd), else gRPC."""
        if self._local_jobs is not None and self._local is not None and self._local.serving():
            return self._local_jobs
        if not self.addresses:
            raise rpc_error(grpc.StatusCode.UNAVAILABLE, "scheduler is not configured (set --scheduler-host-address)")
        return self._jobs

    async def schedule_job(
        self, name: str, job: scheduler_pb2.Job, metadata: scheduler_pb2.JobMetadata, overwrite: bool
    ) -> scheduler_pb2.ScheduleJobResponse:
        return await self._unary().schedule_job(name, job, metadata, overwrite)

    async def get_job(self, name: str, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.GetJobResponse:
        return await self._unary().get_job(name, metadata)

    async def delete_job(self, name: str, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.DeleteJobResponse:
        return await self._unary().delete_job(name, metadata)

    async def list_jobs(self, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.ListJobsResponse:
        return await self._unary().list_jobs(metadata)

    async def delete_by_metadata(
        self, metadata: scheduler_pb2.JobMetadata, id_prefix_match: bool | None = None
    ) -> scheduler_pb2.DeleteByMetadataResponse:
        return await self._unary().delete_by_metadata(metadata, id_prefix_match)

    async def delete_by_name_prefix(
        self, prefix: str, metadata: scheduler_pb2.JobMetadata
    ) -> scheduler_pb2.DeleteByNamePrefixResponse:
        return await self._unary().delete_by_name_prefix(prefix, metadata)

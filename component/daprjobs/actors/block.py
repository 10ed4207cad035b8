"""``ActorsBlock``: the actors building block of the sidecar (the Dapr actor API, gRPC and HTTP).

Serves every actor RPC of ``dapr.proto.runtime.v1.Dapr``, the ``/v1.0/actors/...`` routes and the internal
forwarding routes other sidecars call, describes the actor runtime in ``GetMetadata``, and takes the
reminder triggers (target ``actor``) of the Scheduler. The runtime starts in the background, so the sidecar
answers (SDK apps wait on ``/v1.0/healthz/outbound`` before they serve) while it waits for the app's config.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

import grpc
from aiohttp import web
from dapr.proto.runtime.v1 import metadata_pb2

from daprjobs.actors.actor_grpc import ActorGrpcMethods
from daprjobs.actors.actor_http import ActorHttpRoutes
from daprjobs.actors.lifecycle import ActorRuntime
from daprjobs.actors.reminder_delivery import ReminderDelivery
from daprjobs.core.clock import Clock
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.sidecar.block import AckStatus, BlockBase, SidecarServices, TriggerConsumer

log = logging.getLogger(__name__)


class ReminderTriggerConsumer:
    """Scheduler triggers whose target is an actor: reminders, delivered to the actor's host."""

    def __init__(self, delivery: ReminderDelivery, app_id: str) -> None:
        self._delivery = delivery
        self._app_id = app_id

    def accepts(self, trigger: scheduler_pb2.WatchJobsResponse) -> bool:
        return trigger.metadata.target.WhichOneof("type") == "actor"

    async def deliver(self, trigger: scheduler_pb2.WatchJobsResponse) -> AckStatus | None:
        ok = await self._delivery.deliver_reminder(trigger)
        if not ok:
            actor = trigger.metadata.target.actor
            log.warning("actor reminder failed name=%s actor_type=%s actor_id=%s app_id=%s",
                        trigger.name, actor.type, actor.id, self._app_id)
        return scheduler_pb2.SUCCESS if ok else scheduler_pb2.FAILED


class ActorsBlock(BlockBase):
    name = "actors"

    def __init__(
        self, services: SidecarServices, *, clock: Clock | None = None, placement_lease_ttl_s: int | None = None
    ) -> None:
        self.runtime = ActorRuntime(services, clock=clock, placement_lease_ttl_s=placement_lease_ttl_s)
        ops = self.runtime.operations
        self._grpc = ActorGrpcMethods(ops)
        self._http = ActorHttpRoutes(ops)
        self._reminders = ReminderTriggerConsumer(ops.reminder_delivery, services.config.app_id)
        self._starting: asyncio.Task[None] | None = None

    def grpc_methods(self) -> Mapping[str, grpc.RpcMethodHandler]:
        return self._grpc.handlers()

    def http_routes(self) -> Sequence[web.AbstractRouteDef]:
        return self._http.routes()

    def describe(self, metadata: metadata_pb2.GetMetadataResponse) -> None:
        """The actor runtime: RUNNING (the block exists), active actors per hosted type, host ready once the
        app has registered types."""
        counts = self.runtime.active_actor_counts()
        for kind, count in sorted(counts.items()):
            metadata.actor_runtime.active_actors.add(type=kind, count=count)
            metadata.active_actors_count.add(type=kind, count=count)
        metadata.actor_runtime.runtime_status = metadata_pb2.ActorRuntime.RUNNING
        metadata.actor_runtime.host_ready = bool(self.runtime.hosted_types())

    def trigger_consumers(self) -> Sequence[TriggerConsumer]:
        return (self._reminders,)

    async def start(self) -> None:
        # In the background: connecting etcd and waiting for the app must not hold up the sidecar's start.
        self._starting = asyncio.create_task(self._start_runtime(), name="actor-runtime-start")

    async def _start_runtime(self) -> None:
        try:
            await self.runtime.start()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("actor runtime failed to start")

    async def stop(self) -> None:
        if self._starting is not None:
            self._starting.cancel()
            await asyncio.gather(self._starting, return_exceptions=True)
        await self.runtime.stop()

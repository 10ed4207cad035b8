"""Reminder triggers from the Scheduler, delivered to the actor's host (here, or forwarded once).

An app that answers ``X-DaprReminderCancel: true`` ends the reminder: its job is deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2

from daprjobs.actors import reminders
from daprjobs.actors.actor_app_channel import AppUnreachable, is_reminder_cancel
from daprjobs.actors.forwarding import PeerClient, PeerUnreachable, ReminderOutcome
from daprjobs.actors.host import LocalActors, NoAppChannel
from daprjobs.actors.hosted_types import HostedActorTypes
from daprjobs.actors.routing import ROUTE_ATTEMPTS, ActorRouter
from daprjobs.core.trigger_id import trigger_id
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.sidecar.jobsclient import JobsClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReminderFire:
    """One reminder tick to deliver: the job's name, its data, and its stable trigger id (None from daprd)."""

    name: str
    data: any_pb2.Any | None
    trigger_id: str | None


class ReminderDelivery:
    """A reminder trigger from the scheduler, delivered to the actor's host."""

    def __init__(
        self,
        jobs: JobsClient,
        app_id: str,
        namespace: str,
        hosted: HostedActorTypes,
        router: ActorRouter,
        local: LocalActors,
        peers: PeerClient,
    ) -> None:
        self._jobs = jobs
        self._app_id = app_id
        self._namespace = namespace
        self._hosted = hosted
        self._router = router
        self._local = local
        self._peers = peers

    async def deliver_reminder(self, trigger: scheduler_pb2.WatchJobsResponse) -> bool:
        """True = ack SUCCESS."""
        target = trigger.metadata.target
        if target.WhichOneof("type") != "actor" or not target.actor.type or not target.actor.id:
            log.warning("reminder trigger without an actor target job=%s", trigger.name)
            return False
        actor_type, actor_id = target.actor.type, target.actor.id
        data = trigger.data if trigger.HasField("data") else None
        tick = trigger.daprjobs_scheduled_unix_ns if trigger.HasField("daprjobs_scheduled_unix_ns") else None
        fire = ReminderFire(trigger.name, data, trigger_id(trigger.name, tick) if tick is not None else None)
        outcome = await self._route(actor_type, actor_id, fire)
        if outcome is ReminderOutcome.CANCEL:
            # The app ended the reminder (X-DaprReminderCancel: true): delete the job.
            metadata = reminders.job_metadata(self._app_id, self._namespace, actor_type, actor_id)
            try:
                await self._jobs.delete_job(trigger.name, metadata)
                log.info("actor reminder cancelled by the app actor_type=%s actor_id=%s reminder=%s",
                         actor_type, actor_id, trigger.name)
            except grpc.aio.AioRpcError as err:
                log.warning("deleting a cancelled reminder failed reminder=%s error=%s", trigger.name, err.details())
        return outcome is not ReminderOutcome.FAILED

    async def _route(self, actor_type: str, actor_id: str, fire: ReminderFire) -> ReminderOutcome:
        name, data = fire.name, fire.data
        for _ in range(ROUTE_ATTEMPTS):
            owner = await self._router.owner(actor_type, actor_id, 0)
            if owner is None:
                log.warning("no host for reminder actor_type=%s actor_id=%s reminder=%s", actor_type, actor_id, name)
                return ReminderOutcome.FAILED
            if self._router.is_self(owner):
                return await self.remind_local(actor_type, actor_id, name, data, fire.trigger_id)
            try:
                return await self._peers.remind(owner, actor_type, actor_id, name, data, fire.trigger_id)
            except PeerUnreachable as err:
                log.warning("actor host unreachable, rerouting reminder=%s error=%s", name, err)
                self._router.suspect(actor_type, owner)
        return ReminderOutcome.FAILED

    async def remind_local(
        self, actor_type: str, actor_id: str, name: str, data: any_pb2.Any | None, trigger_id: str | None = None
    ) -> ReminderOutcome:
        if not self._hosted.is_hosted(actor_type):
            log.warning("reminder for a type this app does not host actor_type=%s reminder=%s", actor_type, name)
            return ReminderOutcome.FAILED
        try:
            response = await self._local.remind(actor_type, actor_id, name, data, trigger_id)
        except (NoAppChannel, AppUnreachable) as err:
            log.warning("reminder delivery failed actor_type=%s actor_id=%s reminder=%s error=%s",
                        actor_type, actor_id, name, err)
            return ReminderOutcome.FAILED
        if response.status != 200:
            log.warning("reminder refused by the app actor_type=%s actor_id=%s reminder=%s status=%s",
                        actor_type, actor_id, name, response.status)
            return ReminderOutcome.FAILED
        return ReminderOutcome.CANCEL if is_reminder_cancel(response) else ReminderOutcome.OK

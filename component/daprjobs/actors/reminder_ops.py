"""Actor reminder operations: register, get, list and delete the Scheduler jobs that target an actor.

Reminders are the Scheduler's jobs with an ``actor`` target (``reminders`` converts both ways); only the types
this app hosts may be touched (daprd: ERR_ACTOR_REMINDER_NON_HOSTED). Delivery is ``reminder_delivery``.
"""

from __future__ import annotations

import logging

import grpc

from daprjobs.actors import actor_errors, reminders
from daprjobs.actors.actor_names import validate_name
from daprjobs.actors.hosted_types import HostedActorTypes
from daprjobs.actors.reminders import ReminderSpec, ReminderView
from daprjobs.core.clock import Clock
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.sidecar.jobsclient import JobsClient

log = logging.getLogger(__name__)


def rpc_error_text(err: grpc.aio.AioRpcError) -> str:
    """daprd quotes the scheduler's gRPC error the way Go's status package prints it."""
    return f"rpc error: code = {err.code().name.title().replace('_', '')} desc = {err.details()}"


class ActorReminderOps:
    def __init__(
        self,
        jobs: JobsClient,
        app_id: str,
        namespace: str,
        clock: Clock,
        hosted: HostedActorTypes,
    ) -> None:
        self._jobs = jobs
        self._app_id = app_id
        self._namespace = namespace
        self._clock = clock
        self._hosted = hosted

    def _require_hosted(self, actor_type: str) -> None:
        if not self._hosted.is_hosted(actor_type):
            raise actor_errors.non_hosted_reminder()

    def _metadata(self, actor_type: str, actor_id: str = "") -> scheduler_pb2.JobMetadata:
        return reminders.job_metadata(self._app_id, self._namespace, actor_type, actor_id)

    async def register_reminder(self, spec: ReminderSpec, *, validate_actor_id: bool = False) -> None:
        """daprd's order: name checks (400), hosted type (403), times (500), then the scheduler (409 / 500)."""
        if not spec.name:
            raise actor_errors.bad_request("reminder name cannot be empty")
        if validate_actor_id:
            validate_name(spec.actor_id)
        validate_name(spec.name)
        self._require_hosted(spec.actor_type)
        request = reminders.schedule_request(spec, self._app_id, self._namespace, self._clock.now_ns())
        try:
            await self._jobs.schedule_job(request.name, request.job, request.metadata, request.overwrite)
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.ALREADY_EXISTS:
                raise actor_errors.reminder_exists(spec.name) from None
            raise actor_errors.reminder_create(rpc_error_text(err)) from None
        log.debug("actor reminder registered actor_type=%s actor_id=%s reminder=%s",
                  spec.actor_type, spec.actor_id, spec.name)

    async def unregister_reminder(self, actor_type: str, actor_id: str, name: str) -> None:
        self._require_hosted(actor_type)
        try:
            await self._jobs.delete_job(name, self._metadata(actor_type, actor_id))
        except grpc.aio.AioRpcError as err:
            raise actor_errors.reminder_delete(rpc_error_text(err)) from None

    async def get_reminder(self, actor_type: str, actor_id: str, name: str) -> ReminderView:
        self._require_hosted(actor_type)
        try:
            response = await self._jobs.get_job(name, self._metadata(actor_type, actor_id))
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                raise actor_errors.reminder_not_found(name) from None
            raise actor_errors.reminder_get(rpc_error_text(err)) from None
        return reminders.view_from_job(actor_type, actor_id, name, response.job)

    async def list_reminders(self, actor_type: str, actor_id: str | None) -> list[ReminderView]:
        self._require_hosted(actor_type)
        try:
            response = await self._jobs.list_jobs(self._metadata(actor_type))
        except grpc.aio.AioRpcError as err:
            raise actor_errors.reminder_get(rpc_error_text(err)) from None
        views = []
        for named in response.jobs:
            if named.metadata.target.WhichOneof("type") != "actor":
                continue
            actor = named.metadata.target.actor
            if actor_id is not None and actor.id != actor_id:
                continue
            views.append(reminders.view_from_job(actor.type, actor.id, named.name, named.job))
        return views

    async def unregister_reminders_by_type(self, actor_type: str, actor_id: str | None) -> None:
        self._require_hosted(actor_type)
        try:
            await self._jobs.delete_by_metadata(
                self._metadata(actor_type, actor_id or ""), id_prefix_match=actor_id is None
            )
        except grpc.aio.AioRpcError as err:
            raise actor_errors.reminder_delete(rpc_error_text(err)) from None


"""``JobsClient``: what the sidecar's blocks may ask of the Scheduler (the unary Jobs calls).

The jobs block, the actors block (reminders) and the pub/sub block (delayed publish) schedule, read and
delete jobs through this protocol; ``SchedulerClient`` implements it over Dapr's Scheduler gRPC API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from daprjobs.proto.scheduler.v1 import scheduler_pb2

AckStatus = scheduler_pb2.WatchJobsRequestResultStatus
TriggerCallback = Callable[[scheduler_pb2.WatchJobsResponse], Awaitable[AckStatus | None]]


class UnaryJobs(Protocol):
    """The unary Jobs calls; errors are ``grpc.aio.AioRpcError`` with the Scheduler's code and message."""

    async def schedule_job(
        self, name: str, job: scheduler_pb2.Job, metadata: scheduler_pb2.JobMetadata, overwrite: bool
    ) -> scheduler_pb2.ScheduleJobResponse: ...

    async def get_job(self, name: str, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.GetJobResponse: ...

    async def delete_job(self, name: str, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.DeleteJobResponse: ...

    async def list_jobs(self, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.ListJobsResponse: ...

    async def delete_by_metadata(
        self, metadata: scheduler_pb2.JobMetadata, id_prefix_match: bool | None = None
    ) -> scheduler_pb2.DeleteByMetadataResponse: ...

    async def delete_by_name_prefix(
        self, prefix: str, metadata: scheduler_pb2.JobMetadata
    ) -> scheduler_pb2.DeleteByNamePrefixResponse: ...


class JobsClient(UnaryJobs, Protocol):
    """What blocks ask of the scheduler: the unary calls, and which actor types' reminders reach this sidecar."""

    def set_actor_types(self, types: list[str]) -> None:
        """(Re)open the trigger streams so reminders of these actor types reach this sidecar."""
        ...


class JobsLink(JobsClient, Protocol):
    """A scheduler link of a block's own: its jobs live under another app id, its triggers go to ``handler``.

    Pub/sub's delayed messages use one, so they are delivered whether or not the app answers (the app's own job
    streams open only while it does) and never show in the app's ListJobs.
    """

    def set_trigger_handler(self, handler: TriggerCallback) -> None: ...

    def set_app_target(self, on: bool) -> None: ...

    async def start(self) -> None: ...

    async def stop(self, handler_grace_s: float = 5.0) -> None: ...

"""``JobsClient``: what the sidecar's blocks may ask of the Scheduler (the unary Jobs calls).

The jobs block, the actors block (reminders) and the pub/sub block (delayed publish) schedule, read and
delete jobs through this protocol; ``SchedulerClient`` implements it over Dapr's Scheduler gRPC API.
"""

from __future__ import annotations

from typing import Protocol

from daprjobs.proto.scheduler.v1 import scheduler_pb2


class JobsClient(Protocol):
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

    def set_actor_types(self, types: list[str]) -> None:
        """(Re)open the trigger streams so reminders of these actor types reach this sidecar."""
        ...

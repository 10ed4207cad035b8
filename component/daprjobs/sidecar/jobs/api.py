"""The Jobs API behind both the gRPC and the HTTP front doors (daprd ``pkg/api/universal/jobs.go``).

The checks daprd makes before calling the Scheduler, the codes and messages of its errors, and the mapping
of an app's job onto a Scheduler request (metadata ``app_id`` + ``namespace``, target ``job``).
"""

from __future__ import annotations

import logging

import grpc
from dapr.proto.runtime.v1 import jobs_pb2

from daprjobs.core.jobfields import copy_job_fields
from daprjobs.core.names import INTERNAL_JOB_PREFIX, is_internal_job
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.sidecar.errors import KitError, go_rpc_error_text, http_status_from_grpc
from daprjobs.sidecar.jobs.jobjson import JobHTTPRequest
from daprjobs.sidecar.jobsclient import JobsClient

log = logging.getLogger(__name__)

# dapr errorcodes (category "job"): the reasons carried by ErrorInfo and the HTTP errorCode.
SCHEDULER_EMPTY = "DAPR_SCHEDULER_EMPTY"
SCHEDULER_JOB_NAME_EMPTY = "DAPR_SCHEDULER_JOB_NAME_EMPTY"
SCHEDULER_SCHEDULE_EMPTY = "DAPR_SCHEDULER_SCHEDULE_EMPTY"
SCHEDULER_JOB_NAME = "DAPR_SCHEDULER_JOB_NAME"
SCHEDULER_SCHEDULE_JOB = "DAPR_SCHEDULER_SCHEDULE_JOB"
SCHEDULER_GET_JOB = "DAPR_SCHEDULER_GET_JOB"
SCHEDULER_DELETE_JOB = "DAPR_SCHEDULER_DELETE_JOB"
SCHEDULER_LIST_JOBS = "DAPR_SCHEDULER_LIST_JOBS"


def _empty(what: str, reason: str, metadata: dict[str, str]) -> KitError:
    return KitError(grpc.StatusCode.INVALID_ARGUMENT, 400, f"{what} is empty", reason, metadata)


def _rpc_error_parts(err: grpc.RpcError) -> tuple[grpc.StatusCode, str]:
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    details = err.details() if hasattr(err, "details") else str(err)
    return code or grpc.StatusCode.UNKNOWN, details or ""


def schedule_error(err: grpc.RpcError, metadata: dict[str, str]) -> KitError:
    """SchedulerScheduleJob: the Scheduler's code (Unknown becomes Internal) and HTTP status from it."""
    code, details = _rpc_error_parts(err)
    mapped = grpc.StatusCode.INTERNAL if code == grpc.StatusCode.UNKNOWN else code
    return KitError(
        mapped,
        http_status_from_grpc(mapped),
        "failed to schedule job due to: " + go_rpc_error_text(code, details),
        SCHEDULER_SCHEDULE_JOB,
        metadata,
    )


def _internal_error(prefix: str, reason: str, err: grpc.RpcError, metadata: dict[str, str]) -> KitError:
    code, details = _rpc_error_parts(err)
    return KitError(grpc.StatusCode.INTERNAL, 500, prefix + go_rpc_error_text(code, details), reason, metadata)


def validate_job(job: jobs_pb2.Job | None, metadata: dict[str, str]) -> KitError | None:
    """daprd's checks before the Scheduler is called, in daprd's order; field *presence* counts."""
    if job is None:
        return _empty("Job", SCHEDULER_EMPTY, metadata)
    if job.name == "":
        return _empty("Name", SCHEDULER_JOB_NAME_EMPTY, metadata)
    if not job.HasField("schedule") and not job.HasField("due_time"):
        return _empty("Schedule", SCHEDULER_SCHEDULE_EMPTY, metadata)
    return None


def to_scheduler_job(job: jobs_pb2.Job) -> scheduler_pb2.Job:
    """Copy each field as given, presence included (data stays byte for byte, empty type URL too)."""
    out = scheduler_pb2.Job()
    copy_job_fields(job, out)
    return out


def from_scheduler_job(name: str, job: scheduler_pb2.Job) -> jobs_pb2.Job:
    out = jobs_pb2.Job(name=name)
    copy_job_fields(job, out)
    return out


class JobsApi:
    """One app's jobs: validate like daprd, call the Scheduler, translate its errors like daprd."""

    def __init__(self, scheduler: JobsClient, app_id: str, namespace: str) -> None:
        self._scheduler = scheduler
        self.app_id = app_id
        self.namespace = namespace

    @property
    def error_metadata(self) -> dict[str, str]:
        return {"appID": self.app_id, "namespace": self.namespace}

    def job_metadata(self) -> scheduler_pb2.JobMetadata:
        return scheduler_pb2.JobMetadata(
            app_id=self.app_id,
            namespace=self.namespace,
            target=scheduler_pb2.JobTargetMetadata(job=scheduler_pb2.TargetJob()),
        )

    async def schedule(self, job: jobs_pb2.Job | None, overwrite: bool) -> None:
        problem = validate_job(job, self.error_metadata)
        if problem is not None:
            raise problem
        assert job is not None
        self._refuse_internal(job.name)
        try:
            await self._scheduler.schedule_job(job.name, to_scheduler_job(job), self.job_metadata(), overwrite)
        except grpc.RpcError as err:
            log.warning("error scheduling job name=%s error=%s", job.name, _rpc_error_parts(err)[1])
            raise schedule_error(err, self.error_metadata) from None

    async def schedule_http(self, url_name: str, body: JobHTTPRequest) -> None:
        """POST /v1.0/jobs/{name}: the name comes from the URL only (trimmed), never from the body."""
        if body.name:
            raise KitError(
                grpc.StatusCode.INVALID_ARGUMENT, 400, "Set the job name in the url only", SCHEDULER_JOB_NAME,
                {"appID": self.app_id},
            )
        await self.schedule(body.to_job(url_name.strip()), body.overwrite)

    def _refuse_internal(self, name: str) -> None:
        if is_internal_job(name):
            raise KitError(
                grpc.StatusCode.INVALID_ARGUMENT, 400,
                f"job name {name!r}: the prefix {INTERNAL_JOB_PREFIX!r} is reserved for daprjobs' own jobs",
                SCHEDULER_JOB_NAME, self.error_metadata,
            )

    async def get(self, name: str) -> jobs_pb2.Job:
        if name == "":
            raise _empty("Name", SCHEDULER_JOB_NAME_EMPTY, self.error_metadata)
        self._refuse_internal(name)
        try:
            resp = await self._scheduler.get_job(name, self.job_metadata())
        except grpc.RpcError as err:
            log.info("error getting job name=%s error=%s", name, _rpc_error_parts(err)[1])
            raise _internal_error("failed to get job due to: ", SCHEDULER_GET_JOB, err, self.error_metadata) from None
        return from_scheduler_job(name, resp.job)

    async def delete(self, name: str) -> None:
        if name == "":
            raise _empty("Name", SCHEDULER_JOB_NAME_EMPTY, self.error_metadata)
        self._refuse_internal(name)
        try:
            await self._scheduler.delete_job(name, self.job_metadata())
        except grpc.RpcError as err:
            log.warning("error deleting job name=%s error=%s", name, _rpc_error_parts(err)[1])
            raise _internal_error(
                "failed to delete job due to: ", SCHEDULER_DELETE_JOB, err, self.error_metadata
            ) from None

    async def list(self) -> list[jobs_pb2.Job]:
        try:
            resp = await self._scheduler.list_jobs(self.job_metadata())
        except grpc.RpcError as err:
            log.warning("error listing jobs error=%s", _rpc_error_parts(err)[1])
            raise _internal_error(
                "failed to list jobs due to: ", SCHEDULER_LIST_JOBS, err, self.error_metadata
            ) from None
        return [from_scheduler_job(named.name, named.job) for named in resp.jobs if not is_internal_job(named.name)]

    async def delete_by_prefix(self, prefix: str) -> None:
        """An empty prefix deletes every job of this app (as daprd). Blocks' internal jobs are held under an app id
        of their own (pub/sub: ``<app>.daprjobs-internal``), so no prefix of the app's reaches them."""
        try:
            await self._scheduler.delete_by_name_prefix(prefix, self.job_metadata())
        except grpc.RpcError as err:
            log.warning("error deleting jobs by prefix prefix=%s error=%s", prefix, _rpc_error_parts(err)[1])
            raise _internal_error(
                "failed to delete job due to: ", SCHEDULER_DELETE_JOB, err, self.error_metadata
            ) from None

"""The Jobs API's gRPC methods of ``dapr.proto.runtime.v1.Dapr`` (stable and Alpha1 names share handlers)."""

from __future__ import annotations

from collections.abc import Mapping

import grpc
from dapr.proto.runtime.v1 import jobs_pb2

from daprjobs.sidecar.block import Context, dapr_unary
from daprjobs.sidecar.errors import KitError, abort_grpc
from daprjobs.sidecar.jobs.api import JobsApi


class JobsGrpcMethods:
    def __init__(self, jobs: JobsApi) -> None:
        self._jobs = jobs

    def handlers(self) -> Mapping[str, grpc.RpcMethodHandler]:
        out: dict[str, grpc.RpcMethodHandler] = {}
        for suffix in ("", "Alpha1"):
            out["ScheduleJob" + suffix] = dapr_unary("ScheduleJob" + suffix, self.schedule)
            out["GetJob" + suffix] = dapr_unary("GetJob" + suffix, self.get)
            out["DeleteJob" + suffix] = dapr_unary("DeleteJob" + suffix, self.delete)
        out["DeleteJobsByPrefix"] = dapr_unary("DeleteJobsByPrefix", self.delete_by_prefix)
        out["DeleteJobsByPrefixAlpha1"] = dapr_unary("DeleteJobsByPrefixAlpha1", self.delete_by_prefix_alpha1)
        out["ListJobs"] = dapr_unary("ListJobs", self.list)
        out["ListJobsAlpha1"] = dapr_unary("ListJobsAlpha1", self.list_alpha1)
        return out

    async def schedule(self, request: jobs_pb2.ScheduleJobRequest, context: Context) -> jobs_pb2.ScheduleJobResponse:
        try:
            await self._jobs.schedule(request.job if request.HasField("job") else None, request.overwrite)
        except KitError as err:
            await abort_grpc(context, err)
        return jobs_pb2.ScheduleJobResponse()

    async def get(self, request: jobs_pb2.GetJobRequest, context: Context) -> jobs_pb2.GetJobResponse:
        try:
            return jobs_pb2.GetJobResponse(job=await self._jobs.get(request.name))
        except KitError as err:
            await abort_grpc(context, err)
            raise

    async def delete(self, request: jobs_pb2.DeleteJobRequest, context: Context) -> jobs_pb2.DeleteJobResponse:
        try:
            await self._jobs.delete(request.name)
        except KitError as err:
            await abort_grpc(context, err)
        return jobs_pb2.DeleteJobResponse()

    async def _list(self, context: Context) -> list[jobs_pb2.Job]:
        try:
            return await self._jobs.list()
        except KitError as err:
            await abort_grpc(context, err)
            raise

    async def list(self, request: jobs_pb2.ListJobsRequest, context: Context) -> jobs_pb2.ListJobsResponse:
        return jobs_pb2.ListJobsResponse(jobs=await self._list(context))

    async def list_alpha1(
        self, request: jobs_pb2.ListJobsRequestAlpha1, context: Context
    ) -> jobs_pb2.ListJobsResponseAlpha1:
        return jobs_pb2.ListJobsResponseAlpha1(jobs=await self._list(context))

    async def _delete_by_prefix(self, prefix: str, context: Context) -> None:
        try:
            await self._jobs.delete_by_prefix(prefix)
        except KitError as err:
            await abort_grpc(context, err)

    async def delete_by_prefix(
        self, request: jobs_pb2.DeleteJobsByPrefixRequest, context: Context
    ) -> jobs_pb2.DeleteJobsByPrefixResponse:
        await self._delete_by_prefix(request.name_prefix, context)
        return jobs_pb2.DeleteJobsByPrefixResponse()

    async def delete_by_prefix_alpha1(
        self, request: jobs_pb2.DeleteJobsByPrefixRequestAlpha1, context: Context
    ) -> jobs_pb2.DeleteJobsByPrefixResponseAlpha1:
        await self._delete_by_prefix(request.name_prefix, context)
        return jobs_pb2.DeleteJobsByPrefixResponseAlpha1()

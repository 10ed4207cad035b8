"""The ``dapr.proto.runtime.v1.Dapr`` gRPC service as daprjobs serves it.

Jobs (stable and Alpha1 names share one handler, as in daprd), ``GetMetadata``/``SetMetadata``, and the
actor RPCs forwarded by name to the actor runtime when one runs. Every other RPC of the service answers
UNIMPLEMENTED with a message naming it. ``DAPR_API_TOKEN`` is enforced by ``ApiTokenInterceptor``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from dapr.proto.runtime.v1 import dapr_pb2, jobs_pb2, metadata_pb2
from google.protobuf import empty_pb2

from daprjobs.sidecar.errors import KitError, abort_grpc, unauthenticated
from daprjobs.sidecar.jobs_api import JobsApi

log = logging.getLogger(__name__)

SERVICE_NAME = "dapr.proto.runtime.v1.Dapr"
ALL_METHODS: tuple[str, ...] = tuple(m.name for m in dapr_pb2.DESCRIPTOR.services_by_name["Dapr"].methods)

# Forwarded to the actor runtime by name (contracts.md); the last one streams both ways.
ACTOR_UNARY_METHODS = (
    "RegisterActorReminder", "UnregisterActorReminder", "GetActorReminder", "ListActorReminders",
    "UnregisterActorRemindersByType", "RegisterActorTimer", "UnregisterActorTimer", "GetActorTimer",
    "ListActorTimers", "InvokeActor", "GetActorState", "ExecuteActorStateTransaction",
)
ACTOR_STREAM_METHODS = ("SubscribeActorEventsAlpha1",)

Handler = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


def _unimplemented_message(method: str) -> str:
    return f"{SERVICE_NAME}/{method} is not implemented by daprjobs (it serves the Jobs, actors and metadata APIs)"


async def _abort_unimplemented(context: grpc.aio.ServicerContext[Any, Any], message: str) -> None:
    await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)


class DaprApiServicer:
    """Implements the Dapr service; unknown attribute lookups by the generated registration become stubs."""

    def __init__(
        self,
        jobs: JobsApi,
        metadata: Callable[[], metadata_pb2.GetMetadataResponse],
        actors: Callable[[], Any | None],
        extended_metadata: dict[str, str],
    ) -> None:
        self._jobs = jobs
        self._metadata = metadata
        self._actors = actors
        self._extended = extended_metadata

    def __getattr__(self, name: str) -> Any:
        # Called only for names not defined on the class: the RPCs daprjobs does not implement itself.
        if name in ACTOR_UNARY_METHODS:
            return self._actor_unary(name)
        if name in ACTOR_STREAM_METHODS:
            return self._actor_stream(name)
        if name in ALL_METHODS:
            message = _unimplemented_message(name)

            async def unimplemented(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
                await _abort_unimplemented(context, message)

            return unimplemented
        raise AttributeError(name)

    def _actor_unary(self, name: str) -> Handler:
        async def forward(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            runtime = self._actors()
            method = getattr(runtime, name, None) if runtime is not None else None
            if method is None:
                await _abort_unimplemented(
                    context, f"{SERVICE_NAME}/{name}: the actor runtime is not running in this sidecar"
                )
            return await method(request, context)  # type: ignore[misc]

        return forward

    def _actor_stream(self, name: str) -> Callable[..., AsyncIterator[Any]]:
        async def forward(request_iterator: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            runtime = self._actors()
            method = getattr(runtime, name, None) if runtime is not None else None
            if method is None:
                await _abort_unimplemented(
                    context, f"{SERVICE_NAME}/{name}: the actor runtime is not running in this sidecar"
                )
                return
            async for item in method(request_iterator, context):
                yield item

        return forward

    # ----- jobs -----

    async def _schedule(self, request: jobs_pb2.ScheduleJobRequest,
                        context: grpc.aio.ServicerContext[Any, Any]) -> None:
        try:
            await self._jobs.schedule(request.job if request.HasField("job") else None, request.overwrite)
        except KitError as err:
            await abort_grpc(context, err)

    async def ScheduleJob(self, request: jobs_pb2.ScheduleJobRequest,
                          context: grpc.aio.ServicerContext[Any, Any]) -> jobs_pb2.ScheduleJobResponse:
        await self._schedule(request, context)
        return jobs_pb2.ScheduleJobResponse()

    async def ScheduleJobAlpha1(self, request: jobs_pb2.ScheduleJobRequest,
                                context: grpc.aio.ServicerContext[Any, Any]) -> jobs_pb2.ScheduleJobResponse:
        await self._schedule(request, context)
        return jobs_pb2.ScheduleJobResponse()

    async def _get(self, request: jobs_pb2.GetJobRequest,
                   context: grpc.aio.ServicerContext[Any, Any]) -> jobs_pb2.GetJobResponse:
        try:
            return jobs_pb2.GetJobResponse(job=await self._jobs.get(request.name))
        except KitError as err:
            await abort_grpc(context, err)
            raise

    async def GetJob(self, request: jobs_pb2.GetJobRequest,
                     context: grpc.aio.ServicerContext[Any, Any]) -> jobs_pb2.GetJobResponse:
        return await self._get(request, context)

    async def GetJobAlpha1(self, request: jobs_pb2.GetJobRequest,
                           context: grpc.aio.ServicerContext[Any, Any]) -> jobs_pb2.GetJobResponse:
        return await self._get(request, context)

    async def _delete(self, request: jobs_pb2.DeleteJobRequest, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        try:
            await self._jobs.delete(request.name)
        except KitError as err:
            await abort_grpc(context, err)

    async def DeleteJob(self, request: jobs_pb2.DeleteJobRequest,
                        context: grpc.aio.ServicerContext[Any, Any]) -> jobs_pb2.DeleteJobResponse:
        await self._delete(request, context)
        return jobs_pb2.DeleteJobResponse()

    async def DeleteJobAlpha1(self, request: jobs_pb2.DeleteJobRequest,
                              context: grpc.aio.ServicerContext[Any, Any]) -> jobs_pb2.DeleteJobResponse:
        await self._delete(request, context)
        return jobs_pb2.DeleteJobResponse()

    async def _list(self, context: grpc.aio.ServicerContext[Any, Any]) -> list[jobs_pb2.Job]:
        try:
            return await self._jobs.list()
        except KitError as err:
            await abort_grpc(context, err)
            raise

    async def ListJobs(self, request: jobs_pb2.ListJobsRequest,
                       context: grpc.aio.ServicerContext[Any, Any]) -> jobs_pb2.ListJobsResponse:
        return jobs_pb2.ListJobsResponse(jobs=await self._list(context))

    async def ListJobsAlpha1(self, request: jobs_pb2.ListJobsRequestAlpha1,
                             context: grpc.aio.ServicerContext[Any, Any]) -> jobs_pb2.ListJobsResponseAlpha1:
        return jobs_pb2.ListJobsResponseAlpha1(jobs=await self._list(context))

    async def _delete_prefix(self, prefix: str, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        try:
            await self._jobs.delete_by_prefix(prefix)
        except KitError as err:
            await abort_grpc(context, err)

    async def DeleteJobsByPrefix(self, request: jobs_pb2.DeleteJobsByPrefixRequest,
                                 context: grpc.aio.ServicerContext[Any, Any]) -> jobs_pb2.DeleteJobsByPrefixResponse:
        await self._delete_prefix(request.name_prefix, context)
        return jobs_pb2.DeleteJobsByPrefixResponse()

    async def DeleteJobsByPrefixAlpha1(
        self, request: jobs_pb2.DeleteJobsByPrefixRequestAlpha1, context: grpc.aio.ServicerContext[Any, Any]
    ) -> jobs_pb2.DeleteJobsByPrefixResponseAlpha1:
        await self._delete_prefix(request.name_prefix, context)
        return jobs_pb2.DeleteJobsByPrefixResponseAlpha1()

    # ----- metadata -----

    async def GetMetadata(self, request: metadata_pb2.GetMetadataRequest,
                          context: grpc.aio.ServicerContext[Any, Any]) -> metadata_pb2.GetMetadataResponse:
        return self._metadata()

    async def SetMetadata(self, request: metadata_pb2.SetMetadataRequest,
                          context: grpc.aio.ServicerContext[Any, Any]) -> empty_pb2.Empty:
        self._extended[request.key] = request.value
        return empty_pb2.Empty()


class ApiTokenInterceptor(grpc.aio.ServerInterceptor):
    """daprd's gRPC API-token check: the ``dapr-api-token`` metadata must match, else UNAUTHENTICATED."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        metadata = handler_call_details.invocation_metadata or ()
        values = [v for k, v in metadata if k == "dapr-api-token"]
        handler = await continuation(handler_call_details)
        if values and values[0] == self._token:
            return handler
        detail = "missing api token in request metadata" if not values else "authentication error: api token mismatch"
        log.info("refused gRPC call without a valid api token method=%s", handler_call_details.method)
        return _refusing_handler(handler, unauthenticated(detail))


def _refusing_handler(handler: grpc.RpcMethodHandler | None, err: KitError) -> grpc.RpcMethodHandler:
    async def refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        await abort_grpc(context, err)

    if handler is None:
        return grpc.unary_unary_rpc_method_handler(refuse)
    kwargs = {"request_deserializer": handler.request_deserializer,
              "response_serializer": handler.response_serializer}
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(refuse, **kwargs)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(refuse, **kwargs)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(refuse, **kwargs)
    return grpc.stream_stream_rpc_method_handler(refuse, **kwargs)

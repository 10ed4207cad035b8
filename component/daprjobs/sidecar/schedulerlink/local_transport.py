"""The scheduler link's in-process transport: a replica in this process, its service logic called directly.

Unary calls run the replica's ``SchedulerService`` handlers with a context whose ``abort`` raises the
``AioRpcError`` a gRPC client would get (same code and message; an unexpected exception becomes UNKNOWN
``Unexpected <class>: …`` as grpc's server reports it). A trigger stream drives the service's own ``WatchJobs``
generator with an in-memory request stream: the same validation, route registration, round-robin, in-flight
bookkeeping, acks and re-staging on close as over gRPC, without serialization or a loopback HTTP/2 hop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, NoReturn, TypeVar, cast

import grpc

from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.scheduler.local_endpoint import LocalEndpoint
from daprjobs.sidecar.block import AckStatus
from daprjobs.sidecar.schedulerlink.channels import rpc_error

Resp = TypeVar("Resp")
REPLICA_STOPPED = "the in-process scheduler replica is not serving"


class LocalCallContext:
    """The part of ``grpc.aio.ServicerContext`` the Scheduler service uses, for one direct call.

    ``abort`` raises ``grpc.aio.AbortError`` as grpc's own context does (handlers and their decorators see the
    same exception either way); the caller turns it into the ``AioRpcError`` a gRPC client would get.
    """

    def __init__(self) -> None:
        self.code = grpc.StatusCode.UNKNOWN
        self.details = ""
        self.trailing: tuple[tuple[str, str | bytes], ...] = ()

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return ()  # in-process: no batching asked (nothing to frame)

    def set_trailing_metadata(self, trailing_metadata: tuple[tuple[str, str | bytes], ...]) -> None:
        self.trailing = tuple(trailing_metadata)

    async def abort(self, code: grpc.StatusCode, details: str = "",
                    trailing_metadata: tuple[tuple[str, str | bytes], ...] = ()) -> NoReturn:
        self.code, self.details = code, details
        if trailing_metadata:
            self.trailing = tuple(trailing_metadata)
        raise grpc.aio.AbortError(details)

    def error(self) -> grpc.aio.AioRpcError:
        return grpc.aio.AioRpcError(self.code, grpc.aio.Metadata(), grpc.aio.Metadata(*self.trailing),
                                    details=self.details)


class LocalJobs:
    """``UnaryJobs`` on the in-process replica."""

    def __init__(self, endpoint: LocalEndpoint, rpc_timeout_s: float = 30.0) -> None:
        self._endpoint = endpoint
        self._service = endpoint.service
        self.rpc_timeout_s = rpc_timeout_s

    async def _call(self, handler: Callable[[Any, Any], Awaitable[Resp]], request: Any) -> Resp:
        if not self._endpoint.serving():
            raise rpc_error(grpc.StatusCode.UNAVAILABLE, REPLICA_STOPPED)
        deadline = asyncio.timeout(self.rpc_timeout_s)
        context = LocalCallContext()
        try:
            async with deadline:
                return await handler(request, context)
        except grpc.aio.AbortError:
            raise context.error() from None
        except TimeoutError as exc:
            if deadline.expired():
                raise rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded") from None
            raise _unexpected(exc) from exc
        except Exception as exc:
            raise _unexpected(exc) from exc

    async def schedule_job(
        self, name: str, job: scheduler_pb2.Job, metadata: scheduler_pb2.JobMetadata, overwrite: bool
    ) -> scheduler_pb2.ScheduleJobResponse:
        request = scheduler_pb2.ScheduleJobRequest(name=name, job=job, metadata=metadata, overwrite=overwrite)
        return await self._call(self._service.ScheduleJob, request)

    async def get_job(self, name: str, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.GetJobResponse:
        return await self._call(self._service.GetJob, scheduler_pb2.GetJobRequest(name=name, metadata=metadata))

    async def delete_job(self, name: str, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.DeleteJobResponse:
        return await self._call(self._service.DeleteJob,
                                scheduler_pb2.DeleteJobRequest(name=name, metadata=metadata))

    async def list_jobs(self, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.ListJobsResponse:
        return await self._call(self._service.ListJobs, scheduler_pb2.ListJobsRequest(metadata=metadata))

    async def delete_by_metadata(
        self, metadata: scheduler_pb2.JobMetadata, id_prefix_match: bool | None = None
    ) -> scheduler_pb2.DeleteByMetadataResponse:
        request = scheduler_pb2.DeleteByMetadataRequest(metadata=metadata)
        if id_prefix_match is not None:
            request.id_prefix_match = id_prefix_match
        return await self._call(self._service.DeleteByMetadata, request)

    async def delete_by_name_prefix(
        self, prefix: str, metadata: scheduler_pb2.JobMetadata
    ) -> scheduler_pb2.DeleteByNamePrefixResponse:
        request = scheduler_pb2.DeleteByNamePrefixRequest(name_prefix=prefix, metadata=metadata)
        return await self._call(self._service.DeleteByNamePrefix, request)


def _unexpected(exc: BaseException) -> grpc.aio.AioRpcError:
    """What grpc's aio server answers for an exception a handler did not map to a status."""
    return rpc_error(grpc.StatusCode.UNKNOWN, f"Unexpected {type(exc)}: {exc}")


class _RequestStream:
    """The sidecar's side of WatchJobs as the service reads it: the initial message, then acks."""

    def __init__(self, initial: scheduler_pb2.WatchJobsRequest) -> None:
        self._queue: asyncio.Queue[scheduler_pb2.WatchJobsRequest | None] = asyncio.Queue()
        self._queue.put_nowait(initial)

    def __aiter__(self) -> _RequestStream:
        return self

    async def __anext__(self) -> scheduler_pb2.WatchJobsRequest:
        item = await self._queue.get()
        if item is None:
            self._queue.put_nowait(None)  # every later reader sees the end too
            raise StopAsyncIteration
        return item

    def put(self, request: scheduler_pb2.WatchJobsRequest) -> None:
        self._queue.put_nowait(request)

    def end(self) -> None:
        self._queue.put_nowait(None)


class LocalTriggerChannel:
    def __init__(self, endpoint: LocalEndpoint, initial: scheduler_pb2.WatchJobsRequest) -> None:
        self._endpoint = endpoint
        self._requests = _RequestStream(initial)
        self._context = LocalCallContext()
        # WatchJobs is an async generator (declared as the servicer's AsyncIterator).
        self._responses = cast(AsyncGenerator[scheduler_pb2.WatchJobsResponse, None],
                               endpoint.service.WatchJobs(self._requests, cast(Any, self._context)))
        self._closed = False

    async def read(self) -> scheduler_pb2.WatchJobsResponse | None:
        # A stopping replica ends its streams itself (TriggerDispatcher.close_all), as its gRPC server would.
        try:
            return await anext(self._responses)
        except StopAsyncIteration:
            return None
        except grpc.aio.AbortError:
            raise self._context.error() from None

    def ack(self, trigger_id: int, status: AckStatus) -> None:
        if not self._closed:
            result = scheduler_pb2.WatchJobsRequestResult(id=trigger_id, status=status)
            self._requests.put(scheduler_pb2.WatchJobsRequest(result=result))

    async def close(self) -> None:
        self._closed = True
        self._requests.end()
        await self._responses.aclose()


class LocalTriggerTransport:
    def __init__(self, endpoint: LocalEndpoint) -> None:
        self._endpoint = endpoint

    async def open(self, initial: scheduler_pb2.WatchJobsRequest) -> LocalTriggerChannel:
        if not self._endpoint.serving():
            raise rpc_error(grpc.StatusCode.UNAVAILABLE, REPLICA_STOPPED)
        return LocalTriggerChannel(self._endpoint, initial)

"""Calls from the sidecar into the app for a job trigger (daprd ``pkg/channel/{grpc,http}``).

- gRPC apps: ``AppCallback/OnJobEvent``; on UNIMPLEMENTED the same request again on
  ``AppCallbackAlpha/OnJobEventAlpha1`` (Node apps implement only that one).
- HTTP apps: ``POST /job/<name>`` with ``content-type: application/json`` and the body rules of
  ``jobjson.http_trigger_body``.
- A daprjobs scheduler's trigger id (daprjobs.core.trigger_id) travels as ``daprjobs-trigger-id``, so apps can
  drop a tick delivered twice (at-least-once after a replica's kill -9); daprd sends no such header.
- ``APP_API_TOKEN`` travels as ``dapr-api-token``. OK / 2xx and NOT_FOUND / 404 are success (404 is
  not retried); a connection failure is ``UNREACHABLE`` so the caller can tell a down app from a failing one.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from typing import Protocol

import aiohttp
import grpc
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import appcallback_pb2, appcallback_pb2_grpc
from google.protobuf import any_pb2
from yarl import URL

from daprjobs.core.trigger_id import TRIGGER_ID_HEADER
from daprjobs.sidecar.app_grpc_channel import open_app_grpc_channel
from daprjobs.sidecar.errors import grpc_code_from_http
from daprjobs.sidecar.jobs.jobjson import JobRenderError, http_trigger_body

log = logging.getLogger(__name__)

API_TOKEN_HEADER = "dapr-api-token"


class JobCallOutcome(enum.Enum):
    SUCCESS = "success"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


def outcome_from_code(code: grpc.StatusCode) -> JobCallOutcome:
    """daprd streamer.invokeApp: OK and NotFound (non-retriable) are success, anything else failure."""
    if code in (grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND):
        return JobCallOutcome.SUCCESS
    return JobCallOutcome.FAILED


class JobAppChannel(Protocol):
    async def trigger_job(self, name: str, data: any_pb2.Any | None,
                          trigger_id: str | None = None) -> JobCallOutcome: ...

    async def close(self) -> None: ...


def job_event_request(name: str, data: any_pb2.Any | None) -> appcallback_pb2.JobEventRequest:
    """daprd's request: content_type is the data's *type URL* ("" for Python-SDK raw Anys)."""
    request = appcallback_pb2.JobEventRequest(
        name=name,
        method="job/" + name,
        content_type=data.type_url if data is not None else "",
        http_extension=common_pb2.HTTPExtension(verb=common_pb2.HTTPExtension.Verb.POST),
    )
    if data is not None:
        request.data.CopyFrom(data)
    return request


# Calls into one app at once. A `dapr.ext.grpc` app (10 worker threads) fed 5,000-10,000 concurrent calls answers
# a fifth of them CANCELLED; at 1,000 in flight it peaks with no errors (bench, trigger scenario). The HTTP channel's
# connector has the same limit.
MAX_CONCURRENT_APP_CALLS = 1000


class GrpcJobAppChannel:
    def __init__(self, host: str, port: int, app_token: str | None, max_message_size: int,
                 max_concurrent_calls: int = MAX_CONCURRENT_APP_CALLS) -> None:
        self._channel = open_app_grpc_channel(host, port, max_message_size)
        self._stable = appcallback_pb2_grpc.AppCallbackStub(self._channel)
        self._alpha = appcallback_pb2_grpc.AppCallbackAlphaStub(self._channel)
        self._metadata: tuple[tuple[str, str], ...] = ((API_TOKEN_HEADER, app_token),) if app_token else ()
        self._slots = asyncio.Semaphore(max_concurrent_calls)
        # Set once the app has shown it lacks OnJobEvent but serves OnJobEventAlpha1 (Node apps): later triggers
        # then skip the call that is bound to fail. (UNIMPLEMENTED alone proves nothing: a Python app answers it
        # on both RPCs for a job name it has no handler for.)
        self._alpha_only = False

    async def trigger_job(self, name: str, data: any_pb2.Any | None,
                          trigger_id: str | None = None) -> JobCallOutcome:
        request = job_event_request(name, data)
        metadata = (*self._metadata, (TRIGGER_ID_HEADER, trigger_id)) if trigger_id else self._metadata
        async with self._slots:
            return await self._trigger(name, request, metadata)

    async def _trigger(self, name: str, request: appcallback_pb2.JobEventRequest,
                       metadata: tuple[tuple[str, str], ...]) -> JobCallOutcome:
        try:
            if self._alpha_only:
                await self._alpha.OnJobEventAlpha1(request, metadata=metadata)
                return JobCallOutcome.SUCCESS
            try:
                await self._stable.OnJobEvent(request, metadata=metadata)
            except grpc.aio.AioRpcError as err:
                if err.code() != grpc.StatusCode.UNIMPLEMENTED:
                    raise
                await self._alpha.OnJobEventAlpha1(request, metadata=metadata)
                self._alpha_only = True
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.UNAVAILABLE:
                log.info("app unreachable for job name=%s details=%s", name, err.details())
                return JobCallOutcome.UNREACHABLE
            result = outcome_from_code(err.code())
            level = logging.INFO if result is JobCallOutcome.SUCCESS else logging.WARNING
            log.log(level, "app answered job with an error name=%s code=%s details=%s",
                    name, err.code().name, err.details())
            return result
        return JobCallOutcome.SUCCESS

    async def close(self) -> None:
        await self._channel.close(grace=None)


class HttpJobAppChannel:
    def __init__(self, session: aiohttp.ClientSession, host: str, port: int, app_token: str | None) -> None:
        self._session = session
        self._host = host
        self._port = port
        self._headers = {"content-type": "application/json"}
        if app_token:
            self._headers[API_TOKEN_HEADER] = app_token

    def job_url(self, name: str) -> URL:
        return URL.build(scheme="http", host=self._host, port=self._port, path="/job/" + name.removeprefix("/"))

    async def trigger_job(self, name: str, data: any_pb2.Any | None,
                          trigger_id: str | None = None) -> JobCallOutcome:
        try:
            body = http_trigger_body(data)
        except JobRenderError as exc:
            log.error("cannot build the job request body name=%s error=%s", name, exc)
            return JobCallOutcome.FAILED
        try:
            headers = {**self._headers, TRIGGER_ID_HEADER: trigger_id} if trigger_id else self._headers
            async with self._session.post(self.job_url(name), data=body, headers=headers) as resp:
                await resp.read()
                status = resp.status
        except aiohttp.ClientConnectionError as exc:
            log.info("app unreachable for job name=%s error=%s", name, exc)
            return JobCallOutcome.UNREACHABLE
        except aiohttp.ClientError as exc:
            log.warning("job request to app failed name=%s error=%s", name, exc)
            return JobCallOutcome.FAILED
        result = outcome_from_code(grpc_code_from_http(status))
        if status == 404 or result is JobCallOutcome.FAILED:
            log.warning("app answered job with HTTP status name=%s status=%d", name, status)
        return result

    async def close(self) -> None:
        return None

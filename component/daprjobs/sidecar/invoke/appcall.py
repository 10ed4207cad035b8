"""Calls from the target sidecar into its own app for an invocation (daprd ``pkg/channel/{http,grpc}``).

- HTTP app: ``<verb> http://<app>/<method>?<query>`` with the forwarded headers, ``content-type`` and, when
  ``APP_API_TOKEN`` is set, ``dapr-api-token``. Any status comes back as it is.
- gRPC app: ``AppCallback/OnInvoke(InvokeRequest)`` with the headers as metadata; the status, headers and
  trailers come back as they are.
- Nothing listening (or no ``--app-port``): ``InvokeFailure`` Internal ``error invoking app channel: …``.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from typing import Protocol

import aiohttp
import grpc
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import appcallback_pb2_grpc
from google.protobuf import any_pb2
from yarl import URL

from daprjobs.sidecar.app_grpc_channel import open_app_grpc_channel
from daprjobs.sidecar.errors import go_rpc_error_text
from daprjobs.sidecar.invoke.headers import API_TOKEN_HEADER, from_grpc_metadata, response_headers, to_grpc_metadata
from daprjobs.sidecar.invoke.model import GrpcAnswer, InvokeCall, InvokeFailure, InvokeResult

log = logging.getLogger(__name__)

_GRPC_DETAILS_KEY = "grpc-status-details-bin"
# Path characters sent as they are; the rest is percent-encoded (the method arrives decoded).
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def channel_failure(detail: str, code: grpc.StatusCode = grpc.StatusCode.INTERNAL) -> InvokeFailure:
    return InvokeFailure(go_rpc_error_text(code, f"error invoking app channel: {detail}"), code)


class AppInvoker(Protocol):
    async def invoke(self, call: InvokeCall, timeout_s: float | None) -> InvokeResult: ...

    async def close(self) -> None: ...


class NoAppInvoker:
    """The sidecar was started without ``--app-port``: there is no app to call."""

    async def invoke(self, call: InvokeCall, timeout_s: float | None) -> InvokeResult:
        raise channel_failure("app channel is not initialized (the sidecar has no --app-port)")

    async def close(self) -> None:
        return None


class HttpAppInvoker:
    def __init__(self, session: aiohttp.ClientSession, host: str, port: int, app_token: str | None) -> None:
        self._session = session
        self._host = host
        self._port = port
        self._token = app_token

    def url(self, call: InvokeCall) -> URL:
        path = "/" + call.method
        return URL.build(scheme="http", host=self._host, port=self._port,
                         path=_quote_path(path), query_string=call.query, encoded=True)

    async def invoke(self, call: InvokeCall, timeout_s: float | None) -> InvokeResult:
        if call.verb is None:
            raise InvokeFailure(go_rpc_error_text(grpc.StatusCode.INVALID_ARGUMENT, "missing HTTP extension field"),
                                grpc.StatusCode.INVALID_ARGUMENT)
        if call.verb == "CONNECT":
            raise InvokeFailure(go_rpc_error_text(grpc.StatusCode.INVALID_ARGUMENT, "invalid HTTP verb"),
                                grpc.StatusCode.INVALID_ARGUMENT)
        headers = list(call.headers)
        if call.content_type:
            headers.append(("Content-Type", call.content_type))
        if self._token:
            headers.append((API_TOKEN_HEADER, self._token))
        timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=5)
        try:
            async with self._session.request(
                call.verb, self.url(call), data=call.body if call.body or call.verb not in ("GET", "HEAD") else None,
                headers=headers, timeout=timeout, allow_redirects=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
                auto_decompress=False,
            ) as resp:
                body = await resp.read()
                return InvokeResult(status=resp.status, headers=response_headers(resp.headers.items()),
                                    body=body, content_type=resp.headers.get("Content-Type", ""))
        except TimeoutError:
            raise channel_failure("context deadline exceeded", grpc.StatusCode.DEADLINE_EXCEEDED) from None
        except aiohttp.ClientError as exc:
            raise channel_failure(str(exc) or type(exc).__name__) from None

    async def close(self) -> None:
        return None


def _quote_path(path: str) -> str:
    return urllib.parse.quote(path, safe=_PATH_SAFE)


class GrpcAppInvoker:
    def __init__(self, host: str, port: int, app_token: str | None, max_message_size: int) -> None:
        self._channel = open_app_grpc_channel(host, port, max_message_size)
        self._stub = appcallback_pb2_grpc.AppCallbackStub(self._channel)
        self._token = app_token

    def request(self, call: InvokeCall) -> common_pb2.InvokeRequest:
        request = common_pb2.InvokeRequest(
            method=call.method, data=any_pb2.Any(type_url=call.data_type_url, value=call.body),
            content_type=call.content_type,
        )
        if call.verb is not None:
            request.http_extension.CopyFrom(common_pb2.HTTPExtension(
                verb=common_pb2.HTTPExtension.Verb.Value(call.verb), querystring=call.query))
        return request

    async def invoke(self, call: InvokeCall, timeout_s: float | None) -> InvokeResult:
        metadata = to_grpc_metadata(call.headers)
        if self._token:
            metadata.append((API_TOKEN_HEADER, self._token))
        rpc = self._stub.OnInvoke(self.request(call), metadata=metadata, timeout=timeout_s)
        try:
            response = await rpc
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.UNAVAILABLE and _not_connected(err):
                raise channel_failure(err.details() or "connection refused") from None
            trailers = list(err.trailing_metadata() or ())
            details = next((v for k, v in trailers if k == _GRPC_DETAILS_KEY and isinstance(v, bytes)), b"")
            answer = GrpcAnswer(err.code(), err.details() or "", details,
                                [(k, v) for k, v in from_grpc_metadata(trailers)])
            return InvokeResult(status=0, headers=from_grpc_metadata(err.initial_metadata()), body=b"",
                                content_type="", grpc=answer)
        except asyncio.CancelledError:
            rpc.cancel()
            raise
        headers = from_grpc_metadata(await rpc.initial_metadata())
        trailers = from_grpc_metadata(await rpc.trailing_metadata())
        return InvokeResult(status=200, headers=headers, body=response.data.value,
                            content_type=response.content_type, data_type_url=response.data.type_url,
                            grpc=GrpcAnswer(grpc.StatusCode.OK, "", b"", trailers))

    async def close(self) -> None:
        await self._channel.close(grace=None)


def _not_connected(err: grpc.aio.AioRpcError) -> bool:
    text = (err.details() or "").lower()
    return any(s in text for s in ("connect", "refused", "unreachable", "failed to pick subchannel"))

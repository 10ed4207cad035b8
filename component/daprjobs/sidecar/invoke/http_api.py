"""HTTP service invocation: ``/v1.0/invoke/{id}/method/{method}`` (any verb), the ``dapr-app-id`` header form,
and the target side of the sidecar-to-sidecar hop.

The target's answer goes back as daprd sends it (``pkg/api/http/directmessaging.go``): an HTTP app's status,
headers and body verbatim for every status; a gRPC app's OK as 200 with its data and content type, any other
status as the HTTP status for its code with the protojson ``google.rpc.Status`` as body. Failures before an answer
are ``ERR_DIRECT_INVOKE`` (500; 404 when no app id was given).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from google.protobuf import json_format
from google.rpc import status_pb2
from multidict import CIMultiDict

from daprjobs.sidecar.block import Middleware
from daprjobs.sidecar.errors import LegacyApiError, http_status_from_grpc
from daprjobs.sidecar.http_server import route_not_served
from daprjobs.sidecar.invoke.appcall import AppInvoker
from daprjobs.sidecar.invoke.headers import forwardable
from daprjobs.sidecar.invoke.hop import MISDIRECTED, decode_call, encode_failure, encode_result
from daprjobs.sidecar.invoke.invoker import Invoker
from daprjobs.sidecar.invoke.model import (
    InvokeCall,
    InvokeFailure,
    InvokeResult,
    direct_invoke_error,
    no_app_id_error,
    normalize_verb,
)
from daprjobs.sidecar.invoke.target import routed_by_header, target_and_method

log = logging.getLogger(__name__)

_READ_CHUNK = 64 * 1024
RequestHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BodyTooLarge(Exception):
    pass


async def read_body(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge()
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _error(err: LegacyApiError) -> web.Response:
    return web.Response(status=err.http_status, body=err.http_body(), content_type="application/json")


def grpc_status_json(result: InvokeResult) -> bytes:
    """The protojson of the app's ``google.rpc.Status`` (daprd ``invokev1.ProtobufToJSON``)."""
    assert result.grpc is not None
    status = status_pb2.Status(code=result.grpc.code.value[0], message=result.grpc.message)
    if result.grpc.status_details:
        try:
            status = status_pb2.Status.FromString(result.grpc.status_details)
        except Exception:
            log.info("app sent undecodable grpc-status-details-bin, answering without details")
    try:
        value: Any = json_format.MessageToDict(status)
    except Exception:
        # Details of a type this process does not know: keep code and message.
        value = json_format.MessageToDict(status_pb2.Status(code=status.code, message=status.message))
    return json.dumps(value, separators=(",", ":")).encode()


def render(result: InvokeResult) -> web.Response:
    headers: CIMultiDict[str] = CIMultiDict(result.headers)
    if result.grpc is None:
        status, body = result.status, result.body
        content_type = result.content_type
    elif result.grpc.code.value[0] == 0:
        status, body, content_type = 200, result.body, result.content_type
    else:
        status, body = http_status_from_grpc(result.grpc.code), grpc_status_json(result)
        content_type = "application/json"
    if content_type:
        headers["Content-Type"] = content_type
    return web.Response(status=status, body=body, headers=headers)


class InvokeHttpApi:
    def __init__(self, invoker: Invoker, local: AppInvoker, max_body_size: int) -> None:
        self._invoker = invoker
        self._local = local
        self._max_body = max_body_size

    async def invoke(self, request: web.Request) -> web.StreamResponse:
        target, method = target_and_method(request.path, request.headers)
        if not target:
            return _error(no_app_id_error())
        try:
            body = await read_body(request, self._max_body)
        except BodyTooLarge:
            return _error(direct_invoke_error(target, InvokeFailure("stream too large")))
        call = InvokeCall(
            method=method, verb=normalize_verb(request.method), query=request.rel_url.raw_query_string,
            headers=forwardable(request.headers.items()), body=body,
            content_type=request.headers.get("Content-Type", ""),
        )
        try:
            result = await self._invoker.invoke(target, call, None, remote=request.remote or "", host=request.host)
        except InvokeFailure as failure:
            log.info("invoke failed app_id=%s method=%s error=%s", target, method, failure.detail)
            return _error(direct_invoke_error(target, failure))
        return render(result)

    def header_routing_middleware(self) -> Middleware:
        """Requests for a path no route serves that name an app in ``dapr-app-id`` (or Basic auth) are
        invocations of that app's method = the path, as daprd's fallback route does."""

        async def route_by_header(request: web.Request, handler: RequestHandler) -> web.StreamResponse:
            unserved = request.match_info.http_exception is not None or request.match_info.handler is route_not_served
            if unserved and routed_by_header(request.headers):
                return await self.invoke(request)
            return await handler(request)

        return route_by_header

    async def hop(self, request: web.Request) -> web.StreamResponse:
        """Target side of the hop: this sidecar's app answers a call another sidecar sent."""
        try:
            body = await read_body(request, self._max_body)
        except BodyTooLarge:
            return encode_failure(InvokeFailure("stream too large"))
        app_id, namespace, call, timeout_s = decode_call(request, body)
        if not self._invoker.is_self(app_id, namespace):
            return web.Response(status=MISDIRECTED, text=f"this sidecar serves app {self._invoker.app_id}")
        try:
            result = await self._local.invoke(call, timeout_s)
        except InvokeFailure as failure:
            return encode_failure(failure)
        return encode_result(result)

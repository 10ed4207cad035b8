"""gRPC ``Dapr/InvokeService`` (daprd ``pkg/api/grpc/grpc.go``).

An HTTP app's answer comes back as ``InvokeResponse{data: Any(value=body), content_type}`` with header
``dapr-http-status``; a non-2xx status becomes the gRPC error of ``CodeFromHTTPStatus`` with an ErrorInfo
(``http.code``, ``http.error_message``). A gRPC app's status, headers and trailers pass through. Failures before an
answer are Internal ``failed to invoke, id: <id>, err: …``.
"""

from __future__ import annotations

from http import HTTPStatus

import grpc
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import invoke_pb2
from google.protobuf import any_pb2

from daprjobs.sidecar.block import Context
from daprjobs.sidecar.errors import KitError, abort_grpc, grpc_code_from_http
from daprjobs.sidecar.invoke.headers import HTTP_STATUS_HEADER, forwardable, from_grpc_metadata, to_grpc_metadata
from daprjobs.sidecar.invoke.invoker import Invoker
from daprjobs.sidecar.invoke.model import InvokeCall, InvokeFailure, InvokeResult

_GRPC_DETAILS_KEY = "grpc-status-details-bin"
_MAX_ERROR_MESSAGE = 63


def call_from_request(request: invoke_pb2.InvokeServiceRequest, context: Context) -> InvokeCall:
    message = request.message
    verb: str | None = None
    query = ""
    if message.HasField("http_extension"):
        verb = common_pb2.HTTPExtension.Verb.Name(message.http_extension.verb)
        query = message.http_extension.querystring
    return InvokeCall(
        method=message.method, verb=verb, query=query,
        headers=forwardable(from_grpc_metadata(context.invocation_metadata())),
        body=message.data.value, content_type=message.content_type, data_type_url=message.data.type_url,
    )


def http_answer_error(status: int, body: bytes) -> KitError:
    """daprd ``ErrorFromHTTPResponseCode``: code from the status, message the status text, an ErrorInfo."""
    try:
        text = HTTPStatus(status).phrase
    except ValueError:
        text = ""
    return KitError(grpc_code_from_http(status), status, text, text,
                    {"http.code": str(status),
                     "http.error_message": body.decode(errors="replace")[:_MAX_ERROR_MESSAGE]})


class InvokeGrpcApi:
    def __init__(self, invoker: Invoker) -> None:
        self._invoker = invoker

    async def invoke_service(self, request: invoke_pb2.InvokeServiceRequest,
                             context: Context) -> common_pb2.InvokeResponse:
        call = call_from_request(request, context)
        try:
            result = await self._invoker.invoke(request.id, call, context.time_remaining())
        except InvokeFailure as failure:
            await context.abort(grpc.StatusCode.INTERNAL, f"failed to invoke, id: {request.id}, err: {failure.detail}")
            raise
        if result.grpc is None:
            return await self._from_http_app(result, context)
        return await self._from_grpc_app(result, context)

    async def _from_http_app(self, result: InvokeResult, context: Context) -> common_pb2.InvokeResponse:
        metadata = [*to_grpc_metadata(result.headers), (HTTP_STATUS_HEADER, str(result.status))]
        await context.send_initial_metadata(metadata)
        if not 200 <= result.status < 300:
            await abort_grpc(context, http_answer_error(result.status, result.body))
        return common_pb2.InvokeResponse(data=any_pb2.Any(value=result.body), content_type=result.content_type)

    async def _from_grpc_app(self, result: InvokeResult, context: Context) -> common_pb2.InvokeResponse:
        assert result.grpc is not None
        answer = result.grpc
        await context.send_initial_metadata(to_grpc_metadata(result.headers))
        trailers: list[tuple[str, str | bytes]] = list(to_grpc_metadata(answer.trailers))
        if answer.code != grpc.StatusCode.OK:
            if answer.status_details:
                trailers.append((_GRPC_DETAILS_KEY, answer.status_details))
            await context.abort(answer.code, answer.message, trailing_metadata=tuple(trailers))
        if trailers:
            context.set_trailing_metadata(tuple(trailers))
        return common_pb2.InvokeResponse(
            data=any_pb2.Any(type_url=result.data_type_url, value=result.body), content_type=result.content_type)

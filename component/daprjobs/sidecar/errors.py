"""Dapr's two error shapes, exactly as daprd puts them on the wire.

- ``KitError`` (dapr/kit ``errors.Error``): a gRPC status carrying one ``google.rpc.ErrorInfo``
  detail (domain ``dapr.io``) and, over HTTP, the JSON ``{"errorCode","message","details":[...]}``
  where ``errorCode`` is the ErrorInfo reason. The Jobs API uses only these.
- ``LegacyApiError`` (daprd ``messages.APIError``): HTTP JSON ``{"errorCode","message"}`` with no
  details; used for body read/parse failures and internal encoding failures.
"""

from __future__ import annotations

import json
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

ERROR_DOMAIN = "dapr.io"
ERROR_INFO_TYPE_URL = "type.googleapis.com/google.rpc.ErrorInfo"
_GRPC_DETAILS_KEY = "grpc-status-details-bin"

# Go's status.Code.String() names, used in "rpc error: code = X desc = Y" texts.
_GO_CODE_NAMES: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.OK: "OK",
    grpc.StatusCode.CANCELLED: "Canceled",
    grpc.StatusCode.UNKNOWN: "Unknown",
    grpc.StatusCode.INVALID_ARGUMENT: "InvalidArgument",
    grpc.StatusCode.DEADLINE_EXCEEDED: "DeadlineExceeded",
    grpc.StatusCode.NOT_FOUND: "NotFound",
    grpc.StatusCode.ALREADY_EXISTS: "AlreadyExists",
    grpc.StatusCode.PERMISSION_DENIED: "PermissionDenied",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "ResourceExhausted",
    grpc.StatusCode.FAILED_PRECONDITION: "FailedPrecondition",
    grpc.StatusCode.ABORTED: "Aborted",
    grpc.StatusCode.OUT_OF_RANGE: "OutOfRange",
    grpc.StatusCode.UNIMPLEMENTED: "Unimplemented",
    grpc.StatusCode.INTERNAL: "Internal",
    grpc.StatusCode.UNAVAILABLE: "Unavailable",
    grpc.StatusCode.DATA_LOSS: "DataLoss",
    grpc.StatusCode.UNAUTHENTICATED: "Unauthenticated",
}

# dapr/kit grpccodes.HTTPStatusFromCode.
_HTTP_FROM_GRPC: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 408,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
}

# daprd messaging.CodeFromHTTPStatus: how an HTTP app's answer maps onto a gRPC code.
_GRPC_FROM_HTTP: dict[int, grpc.StatusCode] = {
    408: grpc.StatusCode.CANCELLED,
    500: grpc.StatusCode.UNKNOWN,
    400: grpc.StatusCode.INTERNAL,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ALREADY_EXISTS,
    403: grpc.StatusCode.PERMISSION_DENIED,
    401: grpc.StatusCode.UNAUTHENTICATED,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    501: grpc.StatusCode.UNIMPLEMENTED,
    503: grpc.StatusCode.UNAVAILABLE,
}

_HTTP_REASON_PHRASES = {401: "Unauthorized"}


def go_code_name(code: grpc.StatusCode) -> str:
    return _GO_CODE_NAMES.get(code, "Unknown")


def http_status_from_grpc(code: grpc.StatusCode) -> int:
    return _HTTP_FROM_GRPC.get(code, 500)


def grpc_code_from_http(status: int) -> grpc.StatusCode:
    if 200 <= status < 300:
        return grpc.StatusCode.OK
    return _GRPC_FROM_HTTP.get(status, grpc.StatusCode.UNKNOWN)


def go_rpc_error_text(code: grpc.StatusCode, details: str) -> str:
    """What Go prints for a gRPC status error: daprd embeds this text in its own messages."""
    return f"rpc error: code = {go_code_name(code)} desc = {details}"


def go_json_dumps(value: Any) -> bytes:
    """JSON as Go's encoding/json writes it: compact, map keys sorted, HTML characters escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.encode()


class KitError(Exception):
    """A dapr/kit error: gRPC code + HTTP status + message + one ErrorInfo."""

    def __init__(
        self,
        grpc_code: grpc.StatusCode,
        http_status: int,
        message: str,
        reason: str,
        metadata: dict[str, str] | None,
    ) -> None:
        super().__init__(message)
        self.grpc_code = grpc_code
        self.http_status = http_status
        self.message = message
        self.reason = reason
        self.metadata = dict(metadata) if metadata is not None else None

    def error_info(self) -> error_details_pb2.ErrorInfo:
        return error_details_pb2.ErrorInfo(reason=self.reason, domain=ERROR_DOMAIN, metadata=self.metadata or {})

    def status_proto(self) -> status_pb2.Status:
        detail = any_pb2.Any()
        detail.Pack(self.error_info())
        return status_pb2.Status(code=self.grpc_code.value[0], message=self.message, details=[detail])

    def grpc_trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        return ((_GRPC_DETAILS_KEY, self.status_proto().SerializeToString()),)

    def http_body(self) -> bytes:
        detail = {
            "@type": ERROR_INFO_TYPE_URL,
            "domain": ERROR_DOMAIN,
            "metadata": self.metadata,
            "reason": self.reason,
        }
        # Field order is the Go struct's (errorCode, message, details), not sorted.
        return b'{"errorCode":%s,"message":%s,"details":[%s]}' % (
            go_json_dumps(self.reason or _HTTP_REASON_PHRASES.get(self.http_status, "")),
            go_json_dumps(self.message),
            go_json_dumps(detail),
        )


class LegacyApiError(Exception):
    """daprd's messages.APIError: ``{"errorCode","message"}`` without details."""

    def __init__(self, error_code: str, message: str, http_status: int, grpc_code: grpc.StatusCode) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.http_status = http_status
        self.grpc_code = grpc_code

    def http_body(self) -> bytes:
        return b'{"errorCode":%s,"message":%s}' % (go_json_dumps(self.error_code), go_json_dumps(self.message))


def body_read_error(detail: str) -> LegacyApiError:
    return LegacyApiError(
        "ERR_BODY_READ", f"failed to read request body: {detail}", 400, grpc.StatusCode.INVALID_ARGUMENT
    )


def malformed_request(detail: str) -> LegacyApiError:
    return LegacyApiError(
        "ERR_MALFORMED_REQUEST", f"failed deserializing HTTP body: {detail}", 400, grpc.StatusCode.INVALID_ARGUMENT
    )


def internal_encode_error(detail: str) -> LegacyApiError:
    return LegacyApiError(
        "ERR_INTERNAL", f"failed to encode response as JSON: {detail}", 500, grpc.StatusCode.INTERNAL
    )


def unauthenticated(detail: str) -> KitError:
    """daprd's gRPC API-token refusal (messaging.ErrorFromHTTPResponseCode(401, detail))."""
    return KitError(
        grpc.StatusCode.UNAUTHENTICATED,
        401,
        "Unauthorized",
        "Unauthorized",
        {"http.code": "401", "http.error_message": detail[:63]},
    )


async def abort_grpc(context: grpc.aio.ServicerContext[Any, Any], err: KitError | LegacyApiError) -> None:
    """End the RPC with the error's status (and the ErrorInfo detail for kit errors)."""
    if isinstance(err, KitError):
        await context.abort(err.grpc_code, err.message, trailing_metadata=err.grpc_trailing_metadata())
    else:
        await context.abort(err.grpc_code, err.message)

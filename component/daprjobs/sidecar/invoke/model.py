"""One service invocation as it travels: the call, the target app's answer, and a failure before any answer.

Both API front ends (HTTP ``/v1.0/invoke``, gRPC ``InvokeService``) build an ``InvokeCall``; the sidecar of the
target app turns it into an HTTP request or an ``AppCallback/OnInvoke`` and hands back an ``InvokeResult`` that
keeps what the app said in its own protocol, so each front end can render it as daprd does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc

from daprjobs.sidecar.errors import LegacyApiError
from daprjobs.sidecar.invoke.headers import Headers

ERR_DIRECT_INVOKE = "ERR_DIRECT_INVOKE"
# HTTPExtension verbs daprd knows (common.v1.HTTPExtension.Verb); anything else becomes POST.
KNOWN_VERBS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")


def normalize_verb(method: str) -> str:
    verb = method.upper()
    return verb if verb in KNOWN_VERBS else "POST"


@dataclass
class InvokeCall:
    method: str
    # None: a gRPC caller sent no http_extension (fine for a gRPC app, refused by an HTTP app).
    verb: str | None
    query: str
    headers: Headers
    body: bytes
    content_type: str
    # type URL of the caller's protobuf Any (gRPC callers); passed to gRPC apps unchanged.
    data_type_url: str = ""


@dataclass
class GrpcAnswer:
    """What a gRPC app's OnInvoke ended with."""

    code: grpc.StatusCode
    message: str
    # google.rpc.Status (code, message, details) as the app sent it in grpc-status-details-bin, or b"".
    status_details: bytes = b""
    trailers: Headers = field(default_factory=list)


@dataclass
class InvokeResult:
    """The target app's answer. ``grpc`` is set when the app speaks gRPC; otherwise ``status`` is its HTTP status."""

    status: int
    headers: Headers
    body: bytes
    content_type: str
    data_type_url: str = ""
    grpc: GrpcAnswer | None = None


class InvokeFailure(Exception):
    """No answer from the target app: unknown id, nothing listening, a refused or timed-out hop.

    ``detail`` is the ``err`` part of daprd's ``failed to invoke, id: <id>, err: <detail>``; ``code`` is the
    gRPC code of the failure where it matters (PermissionDenied is 403 over HTTP; everything else 500).
    """

    def __init__(self, detail: str, code: grpc.StatusCode = grpc.StatusCode.INTERNAL, retriable: bool = False,
                 address_failed: bool = False):
        super().__init__(detail)
        self.detail = detail
        self.code = code
        # True when the call never reached the target sidecar, so another instance may take it.
        self.retriable = retriable
        # True when the target sidecar's address failed (refused, reset): callers skip it for a while.
        self.address_failed = address_failed or retriable


def direct_invoke_error(app_id: str, failure: InvokeFailure) -> LegacyApiError:
    status = 403 if failure.code == grpc.StatusCode.PERMISSION_DENIED else 500
    return LegacyApiError(ERR_DIRECT_INVOKE, f"failed to invoke, id: {app_id}, err: {failure.detail}", status,
                          grpc.StatusCode.INTERNAL)


def no_app_id_error() -> LegacyApiError:
    return LegacyApiError(ERR_DIRECT_INVOKE,
                          "failed getting app id either from the URL path or the header dapr-app-id", 404,
                          grpc.StatusCode.NOT_FOUND)

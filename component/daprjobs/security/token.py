"""The shared sidecar-to-scheduler token.

Set ``DAPRJOBS_SCHEDULER_API_TOKEN`` on the scheduler to require it, and on the sidecar to send it (as the
``daprjobs-scheduler-token`` call metadata). An environment variable, not a flag, so it stays out of process
listings (as ``DAPR_API_TOKEN`` does). A scheduler without a token accepts every caller, as Dapr's does without
mTLS, so a real daprd can still connect to it.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any

import grpc

log = logging.getLogger(__name__)

TOKEN_ENV = "DAPRJOBS_SCHEDULER_API_TOKEN"
TOKEN_METADATA_KEY = "daprjobs-scheduler-token"


class TokenCheckInterceptor(grpc.aio.ServerInterceptor):
    """Every call must carry the token; otherwise UNAUTHENTICATED, before any handler runs."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("the scheduler API token must not be empty")
        self._token = token.encode()

    def _valid(self, metadata: Any) -> bool:
        for key, value in metadata or ():
            if key == TOKEN_METADATA_KEY:
                given = value.encode() if isinstance(value, str) else bytes(value)
                return hmac.compare_digest(given, self._token)
        return False

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        if self._valid(handler_call_details.invocation_metadata):
            return await continuation(handler_call_details)
        # Never the token given: it may be a real token meant for something else.
        log.info("refused scheduler call without a valid token method=%s", handler_call_details.method)
        return _refusal(await continuation(handler_call_details))


def _refusal(handler: grpc.RpcMethodHandler | None) -> grpc.RpcMethodHandler:
    """A handler of the same arity that answers UNAUTHENTICATED (so streaming clients get a clean status)."""
    message = "missing or invalid scheduler API token"

    async def refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    async def refuse_stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterable[Any]:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)
        yield None  # pragma: no cover - abort raises

    if handler is None:
        return grpc.unary_unary_rpc_method_handler(refuse)
    serdes = {"request_deserializer": handler.request_deserializer,
              "response_serializer": handler.response_serializer}
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(refuse_stream, **serdes)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(refuse, **serdes)
    if handler.stream_stream is not None:
        return grpc.stream_stream_rpc_method_handler(refuse_stream, **serdes)
    return grpc.unary_unary_rpc_method_handler(refuse, **serdes)


def _with_token(details: grpc.aio.ClientCallDetails, token: str) -> grpc.aio.ClientCallDetails:
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    metadata.add(TOKEN_METADATA_KEY, token)
    return grpc.aio.ClientCallDetails(details.method, details.timeout, metadata, details.credentials,
                                      details.wait_for_ready)


class TokenUnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, token: str) -> None:
        self._token = token

    async def intercept_unary_unary(self, continuation: Any, client_call_details: grpc.aio.ClientCallDetails,
                                    request: Any) -> Any:
        return await continuation(_with_token(client_call_details, self._token), request)


class TokenUnaryStream(grpc.aio.UnaryStreamClientInterceptor):
    def __init__(self, token: str) -> None:
        self._token = token

    async def intercept_unary_stream(self, continuation: Any, client_call_details: grpc.aio.ClientCallDetails,
                                     request: Any) -> Any:
        return await continuation(_with_token(client_call_details, self._token), request)


class TokenStreamStream(grpc.aio.StreamStreamClientInterceptor):
    def __init__(self, token: str) -> None:
        self._token = token

    async def intercept_stream_stream(self, continuation: Any, client_call_details: grpc.aio.ClientCallDetails,
                                      request_iterator: Any) -> Any:
        return await continuation(_with_token(client_call_details, self._token), request_iterator)


def token_interceptors(token: str) -> list[grpc.aio.ClientInterceptor]:
    """Client interceptors adding the token to every Scheduler call (unary, WatchHosts, WatchJobs)."""
    return [TokenUnaryUnary(token), TokenUnaryStream(token), TokenStreamStream(token)]

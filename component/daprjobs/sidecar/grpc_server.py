"""The ``dapr.proto.runtime.v1.Dapr`` gRPC service, composed from the building blocks' methods.

``DaprServiceRouter`` serves each method of the service from the block that registered it; a method no block
serves answers UNIMPLEMENTED naming it. Calls to other services go to the blocks' fallbacks (service
invocation's gRPC proxying). ``DAPR_API_TOKEN`` is enforced by ``ApiTokenInterceptor``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import grpc
from dapr.proto.runtime.v1 import dapr_pb2

from daprjobs.sidecar.block import ALL_METHODS, SERVICE_NAME, Context
from daprjobs.sidecar.errors import KitError, abort_grpc, unauthenticated

log = logging.getLogger(__name__)

_METHODS = dapr_pb2.DESCRIPTOR.services_by_name["Dapr"].methods_by_name


def _unimplemented_handler(method: str) -> grpc.RpcMethodHandler:
    """UNIMPLEMENTED for ``method``, with the method's own arity so streaming clients get a clean status."""
    message = f"{SERVICE_NAME}/{method} is not implemented by daprjobs"
    descriptor = _METHODS[method]

    async def unary(request: Any, context: Context) -> None:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)

    async def streaming(request: Any, context: Context) -> AsyncIterator[Any]:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, message)
        yield None  # pragma: no cover - abort raises

    if descriptor.client_streaming and descriptor.server_streaming:
        return grpc.stream_stream_rpc_method_handler(streaming)
    if descriptor.client_streaming:
        return grpc.stream_unary_rpc_method_handler(unary)
    if descriptor.server_streaming:
        return grpc.unary_stream_rpc_method_handler(streaming)
    return grpc.unary_unary_rpc_method_handler(unary)


class _Undecodable:
    """What a request that is not valid protobuf decodes to: the handler then aborts INTERNAL, as Go gRPC does."""

    def __init__(self, error: Exception) -> None:
        self.message = f"grpc: error unmarshalling request: {error}"


def _decode_guarded(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """``handler`` with a deserializer that never raises (grpc-python would answer UNKNOWN with a Python repr).

    Unary requests only: a stream's messages are decoded inside the call, where a failure already ends it.
    """
    decode = handler.request_deserializer
    if decode is None or handler.request_streaming:
        return handler

    def tolerant(data: bytes) -> Any:
        try:
            return decode(data)
        except Exception as exc:  # DecodeError, or any other parse failure of the bytes
            return _Undecodable(exc)

    kwargs = {"request_deserializer": tolerant, "response_serializer": handler.response_serializer}
    if handler.unary_unary is not None:
        unary = handler.unary_unary

        async def guarded_unary(request: Any, context: Context) -> Any:
            if isinstance(request, _Undecodable):
                await context.abort(grpc.StatusCode.INTERNAL, request.message)
            return await unary(request, context)

        return grpc.unary_unary_rpc_method_handler(guarded_unary, **kwargs)
    stream = handler.unary_stream

    async def guarded_stream(request: Any, context: Context) -> AsyncIterator[Any]:
        if isinstance(request, _Undecodable):
            await context.abort(grpc.StatusCode.INTERNAL, request.message)
        async for item in stream(request, context):
            yield item

    return grpc.unary_stream_rpc_method_handler(guarded_stream, **kwargs)


class DaprServiceRouter(grpc.GenericRpcHandler):
    def __init__(
        self, methods: Mapping[str, grpc.RpcMethodHandler], fallbacks: Sequence[grpc.GenericRpcHandler] = ()
    ) -> None:
        unknown = sorted(set(methods) - set(ALL_METHODS))
        if unknown:
            raise ValueError(f"not methods of {SERVICE_NAME}: {', '.join(unknown)}")
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}
        for name in ALL_METHODS:
            served = methods.get(name)
            handler = _decode_guarded(served) if served is not None else _unimplemented_handler(name)
            self._handlers[f"/{SERVICE_NAME}/{name}"] = handler
        self._fallbacks = tuple(fallbacks)

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        handler = self._handlers.get(handler_call_details.method)
        if handler is not None:
            return handler
        for fallback in self._fallbacks:
            handler = fallback.service(handler_call_details)
            if handler is not None:
                return handler
        return None


def merge_block_methods(blocks: Sequence[tuple[str, Mapping[str, grpc.RpcMethodHandler]]]) -> dict[str, Any]:
    """One method table from every block's; two blocks serving one method is a wiring bug, said at start."""
    merged: dict[str, grpc.RpcMethodHandler] = {}
    owner: dict[str, str] = {}
    for block_name, methods in blocks:
        for method, handler in methods.items():
            if method in merged:
                raise ValueError(f"{SERVICE_NAME}/{method} is served by both {owner[method]} and {block_name}")
            merged[method] = handler
            owner[method] = block_name
    return merged


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
    async def refuse(request: Any, context: Context) -> None:
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

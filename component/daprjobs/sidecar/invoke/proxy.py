"""gRPC proxying (daprd ``pkg/messaging/grpc_proxy.go``): a call to any service other than the Dapr API on the
sidecar's gRPC port, with metadata ``dapr-callee-app-id`` (or ``dapr-app-id``), goes to that app's gRPC server.

Own app id: straight to the app (``--app-protocol grpc``), with ``APP_API_TOKEN``. Another app: to its sidecar's
gRPC port (name resolution; ``dapr-callee-app-id``/``dapr-caller-app-id`` set, ``DAPR_API_TOKEN`` when configured),
which hands it to its app. Messages are relayed as bytes, both ways, streaming or not; headers, trailers and the
status come back unchanged. The caller's ``dapr-api-token`` and ``dapr-app-id`` are not forwarded.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

import grpc

from daprjobs.sidecar.block import Context
from daprjobs.sidecar.invoke.headers import (
    API_TOKEN_HEADER,
    APP_ID_HEADER,
    CALLEE_APP_ID,
    CALLER_APP_ID,
    CALLER_NAMESPACE,
)
from daprjobs.sidecar.invoke.invoker import Invoker
from daprjobs.sidecar.invoke.model import InvokeFailure
from daprjobs.sidecar.invoke.target import split_app_id

log = logging.getLogger(__name__)

Metadata = Sequence[tuple[str, str | bytes]]
_NOT_FORWARDED = frozenset({API_TOKEN_HEADER, APP_ID_HEADER, CALLEE_APP_ID, CALLER_APP_ID, CALLER_NAMESPACE,
                            "user-agent", "content-type", "te", "grpc-accept-encoding", "grpc-timeout",
                            "grpc-encoding"})


def _first(metadata: Metadata, key: str) -> str:
    return next((v for k, v in metadata if k == key and isinstance(v, str)), "")


def _forwardable(metadata: Metadata) -> list[tuple[str, str | bytes]]:
    return [(k, v) for k, v in metadata if k not in _NOT_FORWARDED and not k.startswith(":")]


class GrpcProxy(grpc.GenericRpcHandler):
    def __init__(self, invoker: Invoker, app_address: str | None, app_token: str | None, api_token: str | None,
                 max_message_size: int) -> None:
        self._invoker = invoker
        self._app_address = app_address
        self._app_token = app_token
        self._api_token = api_token
        self._options = [("grpc.max_receive_message_length", max_message_size),
                         ("grpc.max_send_message_length", max_message_size)]
        self._channels: dict[str, grpc.aio.Channel] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        metadata: Metadata = tuple(handler_call_details.invocation_metadata or ())  # type: ignore[attr-defined]
        target = _first(metadata, CALLEE_APP_ID) or _first(metadata, APP_ID_HEADER)
        if not target:
            return None
        method: str = handler_call_details.method  # type: ignore[attr-defined]

        async def relay(requests: AsyncIterator[bytes], context: Context) -> AsyncIterator[bytes]:
            async for response in self._relay(method, target, metadata, requests, context):
                yield response

        return grpc.stream_stream_rpc_method_handler(relay)

    def _channel(self, address: str) -> grpc.aio.Channel:
        channel = self._channels.get(address)
        if channel is None:
            channel = self._channels[address] = grpc.aio.insecure_channel(address, options=self._options)
        return channel

    def _route(self, target: str) -> tuple[str, list[tuple[str, str | bytes]], str, str]:
        """(gRPC address, metadata to add, app id, namespace) for ``target``; InvokeFailure when unreachable."""
        invoker = self._invoker
        app_id, namespace = split_app_id(target, invoker.namespace)
        if invoker.is_self(app_id, namespace):
            if self._app_address is None:
                raise InvokeFailure(f"app {app_id} does not serve gRPC (start its sidecar with --app-protocol grpc)")
            token: list[tuple[str, str | bytes]] = [(API_TOKEN_HEADER, self._app_token)] if self._app_token else []
            return self._app_address, token, app_id, namespace
        registry = invoker.registry
        address = registry.pick(namespace, app_id) if registry is not None else None
        grpc_address = registry.grpc_address_for(address) if registry is not None and address else ""
        if not grpc_address:
            raise InvokeFailure(f"couldn't find service: {target}")
        callee = app_id if namespace == invoker.namespace else f"{app_id}.{namespace}"
        added: list[tuple[str, str | bytes]] = [(CALLEE_APP_ID, callee), (CALLER_APP_ID, invoker.app_id),
                                                (CALLER_NAMESPACE, invoker.namespace)]
        if self._api_token:
            added.append((API_TOKEN_HEADER, self._api_token))
        return grpc_address, added, app_id, namespace

    async def _relay(self, method: str, target: str, metadata: Metadata, requests: AsyncIterator[bytes],
                     context: Context) -> AsyncIterator[bytes]:
        try:
            address, added, _, _ = self._route(target)
        except InvokeFailure as failure:
            await context.abort(grpc.StatusCode.INTERNAL, f"failed to proxy request: {failure.detail}")
            return
        call = self._channel(address).stream_stream(method)(
            requests, metadata=[*_forwardable(metadata), *added], timeout=context.time_remaining())
        try:
            headers = await call.initial_metadata()
            await context.send_initial_metadata(_forwardable(tuple(headers or ())))
            async for response in call:
                yield response
            context.set_trailing_metadata(tuple(_forwardable(tuple(await call.trailing_metadata() or ()))))
        except grpc.aio.AioRpcError as err:
            await context.abort(err.code(), err.details() or "",
                                trailing_metadata=tuple(_forwardable(tuple(err.trailing_metadata() or ()))))

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close(grace=None)
        self._channels.clear()

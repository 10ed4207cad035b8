"""The building-block seam: what a sidecar building block serves, and what the sidecar gives it.

A building block (jobs, actors, service invocation, pub/sub, state) is one object implementing
``BuildingBlock``. The sidecar (``sidecar/server.py``) is given a list of them and composes:

- **gRPC**: each block maps method names of ``dapr.proto.runtime.v1.Dapr`` to handlers (``grpc_methods``;
  build them with ``dapr_unary``/``dapr_unary_stream``/``dapr_stream_stream`` so request and response
  types come from the service descriptor). A method no block serves answers UNIMPLEMENTED naming it.
  ``grpc_fallbacks`` lets a block take calls to *other* services (service invocation's gRPC proxying).
- **HTTP**: each block returns aiohttp route definitions (``http_routes``) and may add middlewares
  (``http_middlewares``, run after the API-token check); a route no block serves answers daprd's JSON 404.
- **Metadata**: each block fills its part of ``GetMetadataResponse`` (``describe``).
- **Triggers**: scheduler triggers go to the first ``TriggerConsumer`` that ``accepts`` them.
- **Lifecycle**: ``start`` once both API servers listen (ports are in ``SidecarServices``), ``stop`` in
  reverse order. A block that fails to start is logged and the sidecar keeps serving the others.

Blocks get everything they use from ``SidecarServices`` at construction; nothing is looked up by name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

import aiohttp
import grpc
from aiohttp import web
from dapr.proto.runtime.v1 import dapr_pb2, metadata_pb2
from google.protobuf import message as pb_message
from google.protobuf import message_factory

from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.sidecar.config import SidecarConfig

if TYPE_CHECKING:
    from daprjobs.sidecar.apphealth import AppHealthMonitor
    from daprjobs.sidecar.jobsclient import JobsClient, JobsLink
    from daprjobs.sidecar.metrics import SidecarMetrics

SERVICE_NAME = "dapr.proto.runtime.v1.Dapr"
_SERVICE = dapr_pb2.DESCRIPTOR.services_by_name["Dapr"]
ALL_METHODS: tuple[str, ...] = tuple(m.name for m in _SERVICE.methods)

AckStatus = scheduler_pb2.WatchJobsRequestResultStatus
Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
Middleware: TypeAlias = Callable[
    [web.Request, Callable[[web.Request], Awaitable[web.StreamResponse]]], Awaitable[web.StreamResponse]
]
Req = TypeVar("Req", bound=pb_message.Message)
Resp = TypeVar("Resp", bound=pb_message.Message)


@dataclass
class SidecarAddress:
    """Where this sidecar listens, filled in once the servers are bound (before blocks start)."""

    listen_host: str = "127.0.0.1"
    grpc_port: int = 0
    http_port: int = 0

    @property
    def http_address(self) -> str:
        """``host:port`` of the HTTP API, as other sidecars reach it."""
        return f"{self.listen_host}:{self.http_port}"

    @property
    def grpc_address(self) -> str:
        return f"{self.listen_host}:{self.grpc_port}"


@dataclass
class SidecarServices:
    """What the sidecar shares with its blocks."""

    config: SidecarConfig
    scheduler: JobsClient
    http_session: aiohttp.ClientSession
    metrics: SidecarMetrics
    app_health: AppHealthMonitor | None = None
    etcd_endpoints: list[str] = field(default_factory=list)
    address: SidecarAddress = field(default_factory=SidecarAddress)
    # A scheduler link for another app id (a block's internal jobs); None where no scheduler is configured.
    open_jobs_link: Callable[[str], JobsLink] | None = None


class TriggerConsumer(Protocol):
    """Takes the scheduler triggers it recognises (app jobs, actor reminders, internal jobs of a block)."""

    def accepts(self, trigger: scheduler_pb2.WatchJobsResponse) -> bool: ...

    async def deliver(self, trigger: scheduler_pb2.WatchJobsResponse) -> AckStatus | None:
        """The ack status, or None to leave the trigger unacked (redelivered when the stream reopens)."""
        ...


class BuildingBlock(Protocol):
    name: str

    def grpc_methods(self) -> Mapping[str, grpc.RpcMethodHandler]: ...

    def grpc_fallbacks(self) -> Sequence[grpc.GenericRpcHandler]: ...

    def http_routes(self) -> Sequence[web.AbstractRouteDef]: ...

    def http_middlewares(self) -> Sequence[Middleware]: ...

    def describe(self, metadata: metadata_pb2.GetMetadataResponse) -> None: ...

    def trigger_consumers(self) -> Sequence[TriggerConsumer]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class BlockBase:
    """Empty defaults for every ``BuildingBlock`` member; a block overrides what it serves."""

    name = "block"

    def grpc_methods(self) -> Mapping[str, grpc.RpcMethodHandler]:
        return {}

    def grpc_fallbacks(self) -> Sequence[grpc.GenericRpcHandler]:
        return ()

    def http_routes(self) -> Sequence[web.AbstractRouteDef]:
        return ()

    def http_middlewares(self) -> Sequence[Middleware]:
        return ()

    def describe(self, metadata: metadata_pb2.GetMetadataResponse) -> None:
        return None

    def trigger_consumers(self) -> Sequence[TriggerConsumer]:
        return ()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def _message_types(method: str) -> tuple[type[pb_message.Message], type[pb_message.Message]]:
    descriptor = _SERVICE.methods_by_name.get(method)
    if descriptor is None:
        raise KeyError(f"{SERVICE_NAME} has no method {method!r}")
    request = message_factory.GetMessageClass(descriptor.input_type)
    response = message_factory.GetMessageClass(descriptor.output_type)
    return request, response


def dapr_unary(method: str, handler: Callable[[Req, Context], Awaitable[Resp]]) -> grpc.RpcMethodHandler:
    """A unary handler for Dapr method ``method``; types come from the service descriptor."""
    request, response = _message_types(method)
    return grpc.unary_unary_rpc_method_handler(
        handler, request_deserializer=request.FromString, response_serializer=response.SerializeToString
    )


def dapr_unary_stream(method: str, handler: Callable[[Req, Context], AsyncIterator[Resp]]) -> grpc.RpcMethodHandler:
    request, response = _message_types(method)
    return grpc.unary_stream_rpc_method_handler(
        handler, request_deserializer=request.FromString, response_serializer=response.SerializeToString
    )


def dapr_stream_stream(
    method: str, handler: Callable[[AsyncIterator[Req], Context], AsyncIterator[Resp]]
) -> grpc.RpcMethodHandler:
    request, response = _message_types(method)
    return grpc.stream_stream_rpc_method_handler(
        handler, request_deserializer=request.FromString, response_serializer=response.SerializeToString
    )

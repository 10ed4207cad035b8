"""``RuntimeInfoBlock``: the sidecar's own API — health checks and metadata (``GetMetadata``/``SetMetadata``).

``GET /v1.0/healthz/outbound`` answers 204 at once: Python SDK clients call it before their app can serve
anything. The metadata answer is the sidecar's part (``metadata.base_response``) plus every block's
``describe``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import grpc
from aiohttp import web
from dapr.proto.runtime.v1 import metadata_pb2
from google.protobuf import empty_pb2

from daprjobs.sidecar.block import BlockBase, Context, dapr_unary
from daprjobs.sidecar.errors import LegacyApiError, go_json_dumps
from daprjobs.sidecar.http_body import JSON, error_response, read_body_limited
from daprjobs.sidecar.metadata import response_json


class RuntimeInfoBlock(BlockBase):
    name = "runtime"

    def __init__(
        self,
        app_id: str,
        max_body_size: int,
        metadata: Callable[[], metadata_pb2.GetMetadataResponse],
        ready: Callable[[], bool],
        extended: dict[str, str],
    ) -> None:
        self._app_id = app_id
        self._max_body = max_body_size
        self._metadata = metadata
        self._ready = ready
        self._extended = extended

    def grpc_methods(self) -> Mapping[str, grpc.RpcMethodHandler]:
        return {
            "GetMetadata": dapr_unary("GetMetadata", self.get_metadata_rpc),
            "SetMetadata": dapr_unary("SetMetadata", self.set_metadata_rpc),
        }

    def http_routes(self) -> Sequence[web.AbstractRouteDef]:
        return (
            web.get("/v1.0/healthz", self.healthz, allow_head=False),
            web.get("/v1.0/healthz/outbound", self.healthz_outbound, allow_head=False),
            web.get("/v1.0/metadata", self.get_metadata, allow_head=False),
            web.put("/v1.0/metadata/{key}", self.put_metadata),
        )

    async def get_metadata_rpc(
        self, request: metadata_pb2.GetMetadataRequest, context: Context
    ) -> metadata_pb2.GetMetadataResponse:
        return self._metadata()

    async def set_metadata_rpc(self, request: metadata_pb2.SetMetadataRequest, context: Context) -> empty_pb2.Empty:
        self._extended[request.key] = request.value
        return empty_pb2.Empty()

    async def healthz(self, request: web.Request) -> web.Response:
        app_id = request.query.get("appid")
        if app_id is not None and app_id != self._app_id:
            err = LegacyApiError("ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match", 500,
                                 grpc.StatusCode.INTERNAL)
            return error_response(err)
        if not self._ready():
            err = LegacyApiError("ERR_HEALTH_NOT_READY", "dapr is not ready: [sidecar]", 500, grpc.StatusCode.INTERNAL)
            return error_response(err)
        return web.Response(status=204)

    async def healthz_outbound(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def get_metadata(self, request: web.Request) -> web.Response:
        return web.Response(status=200, body=go_json_dumps(response_json(self._metadata())), content_type=JSON)

    async def put_metadata(self, request: web.Request) -> web.Response:
        try:
            body = await read_body_limited(request, self._max_body)
        except LegacyApiError as err:
            return error_response(err)
        self._extended[request.match_info["key"]] = body.decode(errors="replace")
        return web.Response(status=204)

"""The Dapr HTTP API as daprjobs serves it (aiohttp).

Routes (daprd's): ``POST|GET|DELETE /v1.0/jobs/{name}`` and ``/v1.0-alpha1/jobs/{name}``,
``GET /v1.0/healthz``, ``GET /v1.0/healthz/outbound`` (204 at once: Python SDK clients call it before their
app can serve anything), ``GET /v1.0/metadata``, ``PUT /v1.0/metadata/{key}``; the actor runtime adds
``/v1.0/actors/...``. ``DAPR_API_TOKEN`` is enforced on every route but the two health checks.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from aiohttp import web

from daprjobs.sidecar.errors import (
    KitError,
    LegacyApiError,
    body_read_error,
    go_json_dumps,
    internal_encode_error,
    malformed_request,
)
from daprjobs.sidecar.jobjson import JobJSONError, JobRenderError, parse_job_http_body, render_job
from daprjobs.sidecar.jobs_api import JobsApi
from daprjobs.sidecar.metrics import SidecarMetrics

log = logging.getLogger(__name__)

JSON = "application/json"
_HEALTH_PATHS = ("/v1.0/healthz", "/v1.0/healthz/outbound")
_READ_CHUNK = 64 * 1024

RequestHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(err: KitError | LegacyApiError) -> web.Response:
    return web.Response(status=err.http_status, body=err.http_body(), content_type=JSON)


async def read_body_limited(request: web.Request, limit: int) -> bytes:
    """The whole body, or daprd's 400 ERR_BODY_READ "stream too large" past ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise body_read_error("stream too large")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(_READ_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise body_read_error("stream too large")
        chunks.append(chunk)
    return b"".join(chunks)


def api_token_middleware(token: str) -> Any:
    """daprd APITokenAuthMiddleware: 401 ``invalid api token`` unless the header matches (health excepted)."""

    @web.middleware
    async def check_token(request: web.Request, handler: RequestHandler) -> web.StreamResponse:
        excluded = request.method == "GET" and request.path.rstrip("/") in _HEALTH_PATHS
        if not excluded and request.headers.get("dapr-api-token") != token:
            log.info("refused HTTP request without a valid api token path=%s", request.path)
            return web.Response(status=401, text="invalid api token\n",
                                headers={"X-Content-Type-Options": "nosniff"})
        return await handler(request)

    return check_token


def metrics_middleware(metrics: SidecarMetrics) -> Any:
    @web.middleware
    async def count(request: web.Request, handler: RequestHandler) -> web.StreamResponse:
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            metrics.record_request("http", f"{request.method} {name}", str(exc.status))
            raise
        metrics.record_request("http", f"{request.method} {name}", str(response.status))
        return response

    return count


class DaprHttpApi:
    def __init__(
        self,
        jobs: JobsApi,
        app_id: str,
        max_body_size: int,
        metadata_json: Callable[[], dict[str, Any]],
        extended_metadata: dict[str, str],
        ready: Callable[[], bool],
    ) -> None:
        self._jobs = jobs
        self._app_id = app_id
        self._max_body = max_body_size
        self._metadata_json = metadata_json
        self._extended = extended_metadata
        self._ready = ready

    def build_app(self, api_token: str | None, metrics: SidecarMetrics | None) -> web.Application:
        middlewares = []
        if metrics is not None:
            middlewares.append(metrics_middleware(metrics))
        if api_token:
            middlewares.append(api_token_middleware(api_token))
        # Bodies of routes other than jobs (actor routes) are bounded by aiohttp itself.
        app = web.Application(middlewares=middlewares, client_max_size=self._max_body)
        for version in ("v1.0", "v1.0-alpha1"):
            app.router.add_post(f"/{version}/jobs/{{name}}", self.schedule_job)
            app.router.add_get(f"/{version}/jobs/{{name}}", self.get_job, allow_head=False)
            app.router.add_delete(f"/{version}/jobs/{{name}}", self.delete_job)
        app.router.add_get("/v1.0/healthz", self.healthz, allow_head=False)
        app.router.add_get("/v1.0/healthz/outbound", self.healthz_outbound, allow_head=False)
        app.router.add_get("/v1.0/metadata", self.get_metadata, allow_head=False)
        app.router.add_put("/v1.0/metadata/{key}", self.put_metadata)
        return app

    async def schedule_job(self, request: web.Request) -> web.Response:
        try:
            body = await read_body_limited(request, self._max_body)
            try:
                parsed = parse_job_http_body(body)
            except JobJSONError as exc:
                raise malformed_request(str(exc)) from None
            await self._jobs.schedule_http(request.match_info["name"], parsed)
        except (KitError, LegacyApiError) as err:
            return error_response(err)
        return web.Response(status=204)

    async def get_job(self, request: web.Request) -> web.Response:
        try:
            job = await self._jobs.get(request.match_info["name"])
        except KitError as err:
            return error_response(err)
        try:
            body = render_job(job)
        except JobRenderError as exc:
            log.info("job cannot be rendered as JSON name=%s error=%s", job.name, exc)
            return error_response(internal_encode_error(str(exc)))
        return web.Response(status=200, body=body, content_type=JSON)

    async def delete_job(self, request: web.Request) -> web.Response:
        try:
            await self._jobs.delete(request.match_info["name"])
        except KitError as err:
            return error_response(err)
        return web.Response(status=204)

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
        return web.Response(status=200, body=go_json_dumps(self._metadata_json()), content_type=JSON)

    async def put_metadata(self, request: web.Request) -> web.Response:
        try:
            body = await read_body_limited(request, self._max_body)
        except LegacyApiError as err:
            return error_response(err)
        self._extended[request.match_info["key"]] = body.decode(errors="replace")
        return web.Response(status=204)

"""The Dapr HTTP API app (aiohttp), composed from the building blocks' routes.

Middlewares run in this order: metrics, the ``DAPR_API_TOKEN`` check (every route but the two health
checks), then the blocks' own. A route no block serves answers daprd's JSON error shape with 404, never a
bare text 404, so SDKs show a real message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
from aiohttp import web

from daprjobs.sidecar.block import Middleware
from daprjobs.sidecar.errors import LegacyApiError, body_read_error
from daprjobs.sidecar.http_body import error_response
from daprjobs.sidecar.metrics import SidecarMetrics

log = logging.getLogger(__name__)

HEALTH_PATHS = ("/v1.0/healthz", "/v1.0/healthz/outbound")
RequestHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ROUTE_NOT_FOUND = "ERR_NOT_FOUND"


def api_token_middleware(token: str) -> Any:
    """daprd APITokenAuthMiddleware: 401 ``invalid api token`` unless the header matches (health excepted)."""

    @web.middleware
    async def check_token(request: web.Request, handler: RequestHandler) -> web.StreamResponse:
        excluded = request.method == "GET" and request.path.rstrip("/") in HEALTH_PATHS
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


def body_size_middleware(max_body_size: int) -> Any:
    """Refuse a declared body over ``--max-body-size`` before any handler, and close that connection at once.

    Without the close, the server would wait for a body it will never read (a client that declared 1 GiB
    holds the connection); daprd answers the same 400 ``ERR_BODY_READ``.
    """

    @web.middleware
    async def refuse_oversized(request: web.Request, handler: RequestHandler) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > max_body_size:
            log.info("refused request body over the limit path=%s declared=%d limit=%d", request.path,
                     request.content_length, max_body_size)
            response = error_response(body_read_error("stream too large"))
            response.force_close()
            return response
        return await handler(request)

    return refuse_oversized


async def route_not_served(request: web.Request) -> web.Response:
    err = LegacyApiError(
        ROUTE_NOT_FOUND,
        f"{request.method} {request.path} is not served by daprjobs (no building block serves this route)",
        404,
        grpc.StatusCode.NOT_FOUND,
    )
    return error_response(err)


def build_http_app(
    routes: Sequence[web.AbstractRouteDef],
    block_middlewares: Sequence[Middleware],
    *,
    api_token: str | None,
    metrics: SidecarMetrics | None,
    max_body_size: int,
) -> web.Application:
    middlewares: list[Any] = []
    if metrics is not None:
        middlewares.append(metrics_middleware(metrics))
    if api_token:
        middlewares.append(api_token_middleware(api_token))
    middlewares.append(body_size_middleware(max_body_size))
    middlewares.extend(web.middleware(m) for m in block_middlewares)
    # Bodies of routes that do not bound them themselves are bounded by aiohttp at --max-body-size.
    app = web.Application(middlewares=middlewares, client_max_size=max_body_size)
    app.router.add_routes(routes)
    app.router.add_route("*", "/{tail:.*}", route_not_served)
    return app

"""Target apps for invocation tests: an aiohttp app that echoes what it received, a ``dapr.ext.grpc.App``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web
from dapr.clients.grpc._request import InvokeMethodRequest
from dapr.clients.grpc._response import InvokeMethodResponse
from dapr.ext.grpc import App
from daprjobs.etcd.embedded import free_port

from tests.support.app_servers import LoopbackHttpApp, ThreadedGrpcApp


class EchoHttpApp(LoopbackHttpApp):
    """``/slow…`` answers after 3 s; ``/status/<code>`` answers that status (body ``status <code>``, header
    ``X-App``); any other path echoes method, path, raw query, headers and body as JSON with header ``X-Echo``."""

    def __init__(self, name: str = "echo") -> None:
        self.name = name
        self.port = free_port()
        self.calls: list[dict[str, Any]] = []

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        seen = {"app": self.name, "method": request.method, "path": request.rel_url.raw_path,
                "query": request.rel_url.raw_query_string, "headers": [[k, v] for k, v in request.headers.items()],
                "body": body.decode(errors="replace")}
        self.calls.append(seen)
        if request.path.startswith("/slow"):
            await asyncio.sleep(3)
        if request.path.startswith("/status/"):
            code = int(request.path.rsplit("/", 1)[1])
            return web.Response(status=code, text=f"status {code}", headers={"X-App": "yes"})
        return web.Response(status=200, body=json.dumps(seen).encode(), content_type="application/json",
                            headers={"X-Echo": "1"})


class GrpcInvokeApp(ThreadedGrpcApp):
    """An unmodified ``dapr.ext.grpc.App`` with ``echo`` (answers the request's data and metadata keys) and
    ``fail`` (answers INVALID_ARGUMENT through an exception); served from a thread."""

    def __init__(self, name: str = "grpc-echo") -> None:
        self.name = name
        self.port = free_port()
        self.seen: list[InvokeMethodRequest] = []

    def build(self) -> App:
        app = App()

        @app.method(name="echo")
        def echo(request: InvokeMethodRequest) -> InvokeMethodResponse:
            self.seen.append(request)
            keys = sorted(request.metadata.keys())
            return InvokeMethodResponse(
                json.dumps({"app": self.name, "data": request.text(), "content_type": request.content_type,
                            "metadata": keys}).encode(), "application/json")

        @app.method(name="plain")
        def plain(request: InvokeMethodRequest) -> str:
            return f"{self.name}:{request.text()}"

        return app

"""Real job apps that record the triggers they receive, run inside the test's process.

- ``HttpJobApp``: an aiohttp app serving ``POST /job/{name}`` that records each trigger and answers with scripted
  statuses.
- ``GrpcJobApp``: an unmodified ``dapr.ext.grpc.App`` in a thread, recording each ``JobEvent``.
"""

from __future__ import annotations

import asyncio
import queue
from dataclasses import dataclass, field

from aiohttp import web
from dapr.ext.grpc import App, JobEvent
from daprjobs.etcd.embedded import free_port

from tests.support.app_servers import LoopbackHttpApp, ThreadedGrpcApp, next_received

DEADLINE_S = 30.0


@dataclass
class HttpTrigger:
    name: str
    body: bytes
    headers: dict[str, str]
    path: str


@dataclass
class HttpJobApp(LoopbackHttpApp):
    """``POST /job/{name}``: records the trigger, answers the next scripted status for that name (else 200)."""

    port: int = field(default_factory=free_port)
    triggers: list[HttpTrigger] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    shutdown_timeout_s = 5.0

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/job/{name}", self._on_job)

    async def _on_job(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        async with self._arrived:
            self.triggers.append(HttpTrigger(name, body, dict(request.headers), request.path))
            self._arrived.notify_all()
        script = self.statuses.get(name)
        status = script.pop(0) if script else 200
        return web.Response(status=status)

    def named(self, name: str) -> list[HttpTrigger]:
        return [t for t in self.triggers if t.name == name]

    async def wait_for(self, name: str, count: int = 1, timeout: float = DEADLINE_S) -> list[HttpTrigger]:
        async def enough() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.named(name)) >= count)

        try:
            await asyncio.wait_for(enough(), timeout)
        except TimeoutError:
            raise AssertionError(f"{len(self.named(name))} of {count} triggers of {name!r} arrived "
                                 f"within {timeout}s; all: {[t.name for t in self.triggers]}") from None
        return self.named(name)


class GrpcJobApp(ThreadedGrpcApp):
    """An unmodified ``dapr.ext.grpc.App`` with handlers for ``names``, served from a thread."""

    def __init__(self, names: list[str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.names = names
        self.events: queue.Queue[JobEvent] = queue.Queue()

    def build(self) -> App:
        app = App()
        for name in self.names:
            app.job_event(name)(self.events.put)
        return app

    async def next_event(self, timeout: float = DEADLINE_S) -> JobEvent:
        return await next_received(self.events, timeout, "job event")

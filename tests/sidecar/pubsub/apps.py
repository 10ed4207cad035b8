"""Subscriber apps for the pub/sub tests: an HTTP app serving ``/dapr/subscribe`` with scripted answers, and an
unmodified ``dapr.ext.grpc.App`` subscriber in a thread."""

from __future__ import annotations

import asyncio
import datetime
import json
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from dapr.clients.grpc._response import TopicEventResponse
from dapr.ext.grpc import App, SubscriptionMessage
from daprjobs.etcd.embedded import free_port


@dataclass
class Delivery:
    path: str
    event: dict[str, Any]
    headers: dict[str, str]
    # When the app received it (RFC3339, UTC, microseconds): delayed-publish tests compare it with the due time.
    received_at: str = ""


@dataclass
class HttpSubscriberApp:
    """``GET /dapr/subscribe`` answers ``subscriptions``; every POST is recorded and answered from ``answers[path]``
    (a list of (status, JSON body or None), consumed in order; then 200 with no body)."""

    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    deliveries: list[Delivery] = field(default_factory=list)
    answers: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/dapr/subscribe", self._subscribe)
        app.router.add_post("/{path:.*}", self._deliver)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _subscribe(self, _: web.Request) -> web.Response:
        return web.json_response(self.subscriptions)

    async def _deliver(self, request: web.Request) -> web.Response:
        body = await request.read()
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        self.deliveries.append(Delivery(request.path, json.loads(body), dict(request.headers), now))
        script = self.answers.get(request.path)
        if script:
            status, answer = script.pop(0)
            return web.Response(status=status, body=None if answer is None else json.dumps(answer).encode(),
                                content_type="application/json")
        return web.Response(status=200)

    def at(self, path: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.path == path]


class GrpcSubscriber:
    """``dapr.ext.grpc.App`` subscribed to ``(pubsub, topic)`` pairs; events land in a queue."""

    def __init__(self, topics: list[tuple[str, str]]) -> None:
        self.port = free_port()
        self.events: queue.Queue[Any] = queue.Queue()
        self._app = App()
        for pubsub, topic in topics:
            def handler(event: SubscriptionMessage) -> TopicEventResponse:
                self.events.put(event)
                return TopicEventResponse("success")
            handler.__name__ = f"on_{pubsub}_{topic}".replace("-", "_")
            self._app.subscribe(pubsub, topic)(handler)
        self._thread = threading.Thread(target=self._app.run, args=(self.port, "127.0.0.1"), daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._app.stop()
        self._thread.join(timeout=10)

    async def next_event(self, timeout: float = 30.0) -> Any:
        try:
            return await asyncio.to_thread(self.events.get, True, timeout)
        except queue.Empty:
            raise AssertionError(f"no topic event within {timeout}s") from None



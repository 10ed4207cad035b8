"""Subscriber apps for the pub/sub tests: an HTTP app serving ``/dapr/subscribe`` with scripted answers, and an
unmodified ``dapr.ext.grpc.App`` subscriber in a thread."""

from __future__ import annotations

import datetime
import json
import queue
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from dapr.clients.grpc._response import TopicEventResponse
from dapr.ext.grpc import App, SubscriptionMessage
from daprjobs.etcd.embedded import free_port

from tests.support.app_servers import LoopbackHttpApp, ThreadedGrpcApp, next_received


@dataclass
class Delivery:
    path: str
    event: dict[str, Any]
    headers: dict[str, str]
    # When the app received it (RFC3339, UTC, microseconds): delayed-publish tests compare it with the due time.
    received_at: str = ""


@dataclass
class HttpSubscriberApp(LoopbackHttpApp):
    """``GET /dapr/subscribe`` answers ``subscriptions``; every POST is recorded and answered from ``answers[path]``
    (a list of (status, JSON body or None), consumed in order; then 200 with no body)."""

    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    deliveries: list[Delivery] = field(default_factory=list)
    answers: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    shutdown_timeout_s = 2.0

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/dapr/subscribe", self._subscribe)
        app.router.add_post("/{path:.*}", self._deliver)

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


class GrpcSubscriber(ThreadedGrpcApp):
    """``dapr.ext.grpc.App`` subscribed to ``(pubsub, topic)`` pairs; events land in a queue."""

    def __init__(self, topics: list[tuple[str, str]]) -> None:
        self.port = free_port()
        self.topics = topics
        self.events: queue.Queue[Any] = queue.Queue()

    def build(self) -> App:
        app = App()
        for pubsub, topic in self.topics:
            def handler(event: SubscriptionMessage) -> TopicEventResponse:
                self.events.put(event)
                return TopicEventResponse("success")
            handler.__name__ = f"on_{pubsub}_{topic}".replace("-", "_")
            app.subscribe(pubsub, topic)(handler)
        return app

    async def next_event(self, timeout: float = 30.0) -> Any:
        return await next_received(self.events, timeout, "topic event")

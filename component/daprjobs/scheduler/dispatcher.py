"""Routes triggers to the sidecars' WatchJobs streams connected to this replica.

A stream registers routes when it opens: its app id (app jobs) and its actor
types (reminders), as its initial message asks. A trigger goes to one stream of
its route, round-robin, with an id unique on that stream; the sidecar acks the
id. When a stream dies, every trigger still in flight on it is resolved
UNDELIVERABLE, so the engine re-queues it for another stream or parks it until
one appears.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from daprjobs.proto.scheduler.v1 import scheduler_pb2

log = logging.getLogger(__name__)

# ("app", namespace, app_id) or ("actor", namespace, actor_type)
RouteKey = tuple[str, str, str]


class TriggerResult(enum.Enum):
    SUCCESS = 0
    FAILED = 1
    UNDELIVERABLE = 2


ResultCallback = Callable[[TriggerResult], None]


@dataclass(eq=False)
class WatchStream:
    """One sidecar stream: what it accepts, what it still has to ack, and its outbox."""

    stream_id: int
    app_id: str
    namespace: str
    routes: list[RouteKey]
    outbox: asyncio.Queue[scheduler_pb2.WatchJobsResponse | None] = field(default_factory=asyncio.Queue)
    inflight: dict[int, ResultCallback] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    closed: bool = False

    def next_id(self) -> int:
        return next(self._ids)


class TriggerDispatcher:
    def __init__(self) -> None:
        self._routes: dict[RouteKey, list[WatchStream]] = {}
        self._rr: dict[RouteKey, int] = {}
        self._stream_ids = itertools.count(1)
        self._route_listeners: list[Callable[[RouteKey], None]] = []
        self._streams: set[WatchStream] = set()

    def on_route_available(self, listener: Callable[[RouteKey], None]) -> None:
        self._route_listeners.append(listener)

    def new_stream(self, app_id: str, namespace: str, routes: list[RouteKey]) -> WatchStream:
        return WatchStream(next(self._stream_ids), app_id, namespace, routes)

    def register(self, stream: WatchStream) -> None:
        self._streams.add(stream)
        for route in stream.routes:
            streams = self._routes.setdefault(route, [])
            first = not streams
            streams.append(stream)
            if first:
                for listener in self._route_listeners:
                    try:
                        listener(route)
                    except Exception:
                        log.exception("route listener failed route=%s", route)

    def unregister(self, stream: WatchStream) -> None:
        """Remove a dead stream and resolve its in-flight triggers as undeliverable."""
        if stream.closed:
            return
        stream.closed = True
        self._streams.discard(stream)
        for route in stream.routes:
            streams = self._routes.get(route)
            if streams and stream in streams:
                streams.remove(stream)
                if not streams:
                    del self._routes[route]
                    self._rr.pop(route, None)
        inflight, stream.inflight = stream.inflight, {}
        for callback in inflight.values():
            callback(TriggerResult.UNDELIVERABLE)
        stream.outbox.put_nowait(None)

    def close_all(self) -> None:
        """End every stream (a stopping replica): in-flight triggers resolve undeliverable, outboxes end."""
        for stream in list(self._streams):
            self.unregister(stream)

    def has_route(self, route: RouteKey) -> bool:
        return route in self._routes

    def connected_streams(self) -> int:
        return len(self._streams)

    def send(self, route: RouteKey, message: scheduler_pb2.WatchJobsResponse, on_result: ResultCallback) -> bool:
        """Queue a trigger on one stream of the route; False when no stream serves it."""
        streams = self._routes.get(route)
        if not streams:
            return False
        i = self._rr.get(route, 0) % len(streams)
        self._rr[route] = i + 1
        stream = streams[i]
        trigger_id = stream.next_id()
        message.id = trigger_id
        stream.inflight[trigger_id] = on_result
        stream.outbox.put_nowait(message)
        return True

    def ack(self, stream: WatchStream, trigger_id: int, status: int) -> None:
        callback = stream.inflight.pop(trigger_id, None)
        if callback is None:
            log.debug("ignoring unknown or duplicate ack stream=%d id=%d", stream.stream_id, trigger_id)
            return
        callback(TriggerResult.SUCCESS if status == scheduler_pb2.SUCCESS else TriggerResult.FAILED)

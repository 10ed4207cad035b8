"""``SubscribeTopicEventsAlpha1``: a subscription that lives as long as one bidirectional gRPC stream.

daprd's flow: the client's first message is ``initial_request`` (pubsub, topic, metadata, dead-letter
topic); the sidecar answers ``initial_response`` first, then sends each event as ``event_message`` and waits
for the ``event_processed`` carrying that event's id and status. A message the client does not answer
before the stream ends (or within ``processingTimeout``) stays with the broker and is delivered again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import grpc
from dapr.proto.runtime.v1 import appcallback_pb2, pubsub_pb2

from daprjobs.components.pubsub.protocol import PubSubComponent
from daprjobs.sidecar.block import Context
from daprjobs.sidecar.pubsub.routing import Rule
from daprjobs.sidecar.pubsub.subscriber import SubscriptionHandler
from daprjobs.sidecar.pubsub.subscriber_app import Outcome, topic_event_request
from daprjobs.sidecar.pubsub.subscriptions import Subscription, SubscriptionKind

log = logging.getLogger(__name__)

_STATUS = {
    appcallback_pb2.TopicEventResponse.SUCCESS: Outcome.SUCCESS,
    appcallback_pb2.TopicEventResponse.RETRY: Outcome.RETRY,
    appcallback_pb2.TopicEventResponse.DROP: Outcome.DROP,
}
Response = pubsub_pb2.SubscribeTopicEventsResponseAlpha1


class EventStream:
    """The sidecar's half of one streaming subscription."""

    def __init__(self) -> None:
        self.outbox: asyncio.Queue[Response | None] = asyncio.Queue()
        self._waiting: dict[str, list[asyncio.Future[Outcome]]] = {}

    async def sink(self, event: Mapping[str, Any], path: str, headers: Mapping[str, str]) -> Outcome:
        request = topic_event_request(event, path)
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(request.id, []).append(future)
        try:
            await self.outbox.put(Response(event_message=request))
            return await future
        finally:
            waiting = self._waiting.get(request.id, [])
            if future in waiting:
                waiting.remove(future)
            if not waiting:
                self._waiting.pop(request.id, None)

    def answered(self, event_id: str, status: int) -> None:
        waiting = self._waiting.get(event_id)
        if not waiting:
            log.debug("answer for an event not awaited event_id=%s", event_id)
            return
        future = waiting.pop(0)
        if not future.done():
            future.set_result(_STATUS.get(status) or Outcome.RETRY)  # type: ignore[call-overload]

    def close(self) -> None:
        for waiting in self._waiting.values():
            for future in waiting:
                if not future.done():
                    future.set_result(Outcome.RETRY)
        self._waiting.clear()
        self.outbox.put_nowait(None)


class StreamingSubscriptions:
    def __init__(self, component: Callable[[str], PubSubComponent | None], app_id: str) -> None:
        self._component = component
        self._app_id = app_id
        self.active: list[Subscription] = []

    async def serve(self, requests: AsyncIterator[pubsub_pb2.SubscribeTopicEventsRequestAlpha1],
                    context: Context) -> AsyncIterator[Response]:
        first = await anext(requests, None)
        if first is None or first.WhichOneof("subscribe_topic_events_request_type") != "initial_request":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "initial request is required")
            return
        initial = first.initial_request
        if not initial.pubsub_name:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "pubsubName is required")
        if not initial.topic:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "topic is required")
        component = self._component(initial.pubsub_name)
        if component is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"pubsub {initial.pubsub_name} is not found")
            return
        subscription = Subscription(initial.pubsub_name, initial.topic, (Rule("", "/"),), SubscriptionKind.STREAMING,
                                    dict(initial.metadata), initial.dead_letter_topic)
        stream = EventStream()
        yield Response(initial_response=pubsub_pb2.SubscribeTopicEventsResponseInitialAlpha1())
        handler = SubscriptionHandler(subscription, component, stream.sink, self._app_id)
        topic_subscription = await component.subscribe(initial.topic, handler)
        self.active.append(subscription)
        reader = asyncio.create_task(self._read_answers(requests, stream), name="pubsub-stream-answers")
        log.info("streaming subscription started app_id=%s pubsub=%s topic=%s", self._app_id,
                 subscription.pubsub, subscription.topic)
        try:
            while (item := await stream.outbox.get()) is not None:
                yield item
        finally:
            self.active.remove(subscription)
            await topic_subscription.close()
            stream.close()
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            log.info("streaming subscription ended app_id=%s pubsub=%s topic=%s", self._app_id,
                     subscription.pubsub, subscription.topic)

    async def _read_answers(self, requests: AsyncIterator[pubsub_pb2.SubscribeTopicEventsRequestAlpha1],
                            stream: EventStream) -> None:
        try:
            async for request in requests:
                if request.WhichOneof("subscribe_topic_events_request_type") == "event_processed":
                    stream.answered(request.event_processed.id, request.event_processed.status.status)
                else:
                    log.warning("duplicate initial request received on a subscription stream app_id=%s",
                                self._app_id)
        except (grpc.RpcError, asyncio.CancelledError):
            pass
        except Exception:
            log.exception("subscription stream reader failed app_id=%s", self._app_id)
        finally:
            stream.close()

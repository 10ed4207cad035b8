"""One subscription's message handling: decode the CloudEvent, drop expired ones, route, deliver, dead-letter.

The answer to the broker is whether it may forget the message: yes after SUCCESS, after DROP (once the
dead-letter topic, if any, has it), for an event that cannot be decoded or routed (dead-lettered likewise);
no after RETRY or any failure, so the broker delivers it again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from daprjobs.components.pubsub.protocol import BrokerMessage, PubSubComponent
from daprjobs.sidecar.pubsub.cloudevents import EnvelopeError, is_expired, parse_event, raw_event
from daprjobs.sidecar.pubsub.routing import Router, RuleError
from daprjobs.sidecar.pubsub.subscriber_app import Outcome
from daprjobs.sidecar.pubsub.subscriptions import Subscription

log = logging.getLogger(__name__)

# Delivers one routed event: (event, path, headers) -> outcome.
EventSink = Callable[[Mapping[str, Any], str, Mapping[str, str]], Awaitable[Outcome]]


class SubscriptionHandler:
    def __init__(self, subscription: Subscription, component: PubSubComponent, sink: EventSink, app_id: str) -> None:
        self.subscription = subscription
        self._component = component
        self._sink = sink
        self._router = Router(subscription.rules)
        self._app_id = app_id

    def _fields(self) -> str:
        s = self.subscription
        return f"app_id={self._app_id} pubsub={s.pubsub} topic={s.topic}"

    async def __call__(self, message: BrokerMessage) -> bool:
        sub = self.subscription
        try:
            event = raw_event(message.data, sub.topic, sub.pubsub) if sub.raw_payload else parse_event(message.data)
        except EnvelopeError as exc:
            log.warning("message is not a CloudEvent %s id=%s error=%s", self._fields(), message.broker_id, exc)
            return await self._dead_letter(message)
        if is_expired(event):
            log.warning("event expired before delivery, dropped %s event_id=%s", self._fields(), event.get("id"))
            return await self._dead_letter(message)
        try:
            path = self._router.route(event)
        except RuleError as exc:
            log.warning("routing failed, left for redelivery %s event_id=%s error=%s", self._fields(),
                        event.get("id"), exc)
            return False
        if path is None:
            log.info("no route matches, event skipped %s event_id=%s", self._fields(), event.get("id"))
            return await self._dead_letter(message)
        headers = dict(message.metadata)
        headers["pubsubName"] = sub.pubsub
        outcome = await self._sink(event, path, headers)
        if outcome is Outcome.SUCCESS:
            return True
        if outcome is Outcome.DROP:
            log.warning("app dropped the event %s event_id=%s", self._fields(), event.get("id"))
            return await self._dead_letter(message)
        log.info("app asked for a retry %s event_id=%s", self._fields(), event.get("id"))
        return False

    async def _dead_letter(self, message: BrokerMessage) -> bool:
        topic = self.subscription.dead_letter_topic
        if not topic:
            return True
        try:
            await self._component.publish(topic, message.data, message.metadata)
        except Exception as exc:
            log.error("dead-letter publish failed, left for redelivery %s dead_letter_topic=%s error=%s",
                      self._fields(), topic, exc)
            return False
        return True

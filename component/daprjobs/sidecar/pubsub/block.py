"""``PubSubBlock``: the pub/sub building block on the sidecar seam.

Components come from the resource files (``pubsub.redis``); publishing is served at once; app subscriptions
(declarative ones and the app's programmatic ones) start once the app answers, as daprd subscribes after
its app channel is ready; streaming subscriptions live with their gRPC streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence

import grpc
from aiohttp import web
from dapr.proto.runtime.v1 import metadata_pb2

from daprjobs.components.pubsub.protocol import PubSubComponent, TopicSubscription
from daprjobs.components.pubsub.redis_settings import parse_settings
from daprjobs.components.pubsub.redis_streams import RedisStreamsPubSub
from daprjobs.sidecar.block import (
    BlockBase,
    SidecarServices,
    TriggerConsumer,
    dapr_stream_stream,
    dapr_unary,
)
from daprjobs.sidecar.jobsclient import JobsLink
from daprjobs.sidecar.pubsub.delayed import DelayedPublisher, internal_app_id
from daprjobs.sidecar.pubsub.grpc_api import PublishGrpcApi
from daprjobs.sidecar.pubsub.http_api import PublishHttpApi
from daprjobs.sidecar.pubsub.publisher import Publisher
from daprjobs.sidecar.pubsub.scopes import TopicScopes
from daprjobs.sidecar.pubsub.streaming import StreamingSubscriptions
from daprjobs.sidecar.pubsub.subscriber import SubscriptionHandler
from daprjobs.sidecar.pubsub.subscriber_app import GrpcSubscriberApp, HttpSubscriberApp, SubscriberApp
from daprjobs.sidecar.pubsub.subscriptions import Subscription, load_declarative, merge

log = logging.getLogger(__name__)

PUBSUB_REDIS = "pubsub.redis"
# How long one delivery to the app may take; the component's processingTimeout bounds it too.
_APP_CALL_TIMEOUT_S = 60.0
_LIST_RETRY_S = 1.0
_LIST_ATTEMPTS = 5


def components_from_config(services: SidecarServices) -> dict[str, PubSubComponent]:
    cfg = services.config
    result: dict[str, PubSubComponent] = {}
    for resource in cfg.resources:
        if resource.type == PUBSUB_REDIS:
            settings = parse_settings(resource.name, resource.metadata, cfg.app_id, cfg.namespace)
            result[resource.name] = RedisStreamsPubSub(resource.name, settings)
    return result


class PubSubBlock(BlockBase):
    name = "pubsub"

    def __init__(self, services: SidecarServices, components: Mapping[str, PubSubComponent] | None = None) -> None:
        self._services = services
        cfg = services.config
        self.components: dict[str, PubSubComponent] = (
            dict(components) if components is not None else components_from_config(services))
        # Delayed messages ride a scheduler link of their own, so they go out even while the app is down or
        # when it has no app port at all (the app's job streams open only while it answers).
        self._delayed_link: JobsLink | None = None
        held_by = cfg.app_id
        if services.open_jobs_link is not None and self.components:
            held_by = internal_app_id(cfg.app_id)
            self._delayed_link = services.open_jobs_link(held_by)
        self.delayed = DelayedPublisher(self._delayed_link or services.scheduler, held_by, cfg.namespace,
                                        self.components.get)
        self.scopes = {r.name: TopicScopes.from_metadata(r.metadata, cfg.app_id)
                       for r in cfg.resources if r.name in self.components}
        self.publisher = Publisher(self.components, cfg.app_id, self.delayed, self.scopes)
        self.streaming = StreamingSubscriptions(self.components.get, cfg.app_id)
        self.declarative = load_declarative(cfg.resources_path, cfg.app_id)
        self.app_subscriptions: list[Subscription] = []
        self._running: list[TopicSubscription] = []
        self._app: SubscriberApp | None = None
        self._subscribing: asyncio.Task[None] | None = None
        self._grpc = PublishGrpcApi(self.publisher)
        self._http = PublishHttpApi(self.publisher, cfg.max_body_size)

    def grpc_methods(self) -> Mapping[str, grpc.RpcMethodHandler]:
        bulk = dapr_unary("BulkPublishEvent", self._grpc.bulk_publish_event)
        return {
            "PublishEvent": dapr_unary("PublishEvent", self._grpc.publish_event),
            "BulkPublishEvent": bulk,
            "BulkPublishEventAlpha1": dapr_unary("BulkPublishEventAlpha1", self._grpc.bulk_publish_event),
            "SubscribeTopicEventsAlpha1": dapr_stream_stream("SubscribeTopicEventsAlpha1", self.streaming.serve),
        }

    def http_routes(self) -> Sequence[web.AbstractRouteDef]:
        return self._http.routes()

    def trigger_consumers(self) -> Sequence[TriggerConsumer]:
        return (self.delayed,)

    def describe(self, metadata: metadata_pb2.GetMetadataResponse) -> None:
        for sub in [*self.app_subscriptions, *self.streaming.active]:
            entry = metadata.subscriptions.add(pubsub_name=sub.pubsub, topic=sub.topic, metadata=dict(sub.metadata),
                                               dead_letter_topic=sub.dead_letter_topic, type=int(sub.kind))
            for rule in sub.rules:
                entry.rules.rules.add(match=rule.match, path=rule.path)

    async def start(self) -> None:
        for name, component in list(self.components.items()):
            try:
                await component.init()
            except Exception as exc:
                # daprd refuses to start on a component that fails to init; the other blocks keep serving here.
                log.error("pubsub component failed to initialise, not served app_id=%s component=%s error=%s",
                          self._services.config.app_id, name, exc)
                del self.components[name]
        if self._delayed_link is not None:
            self._delayed_link.set_trigger_handler(self.delayed.deliver)
            self._delayed_link.set_app_target(True)
            await self._delayed_link.start()
        self._app = self._subscriber_app()
        if self._app is not None and self.components:
            self._subscribing = asyncio.create_task(self._subscribe_app(self._app), name="pubsub-subscribe")

    def _subscriber_app(self) -> SubscriberApp | None:
        cfg = self._services.config
        if not cfg.app_port:
            return None
        if cfg.app_protocol == "grpc":
            return GrpcSubscriberApp(cfg.app_host, cfg.app_port, cfg.app_id, cfg.app_api_token, _APP_CALL_TIMEOUT_S,
                                     cfg.max_body_size)
        return HttpSubscriberApp(self._services.http_session, cfg.app_host, cfg.app_port, cfg.app_id,
                                 cfg.app_api_token, _APP_CALL_TIMEOUT_S)

    async def _subscribe_app(self, app: SubscriberApp) -> None:
        cfg = self._services.config
        if self._services.app_health is not None:
            await self._services.app_health.wait_healthy()
        programmatic = await self._list_app_subscriptions(app)
        self.app_subscriptions = merge(self.declarative, programmatic)
        for sub in self.app_subscriptions:
            component = self.components.get(sub.pubsub)
            if component is None:
                log.warning("subscription to an unknown pubsub skipped app_id=%s pubsub=%s topic=%s", cfg.app_id,
                            sub.pubsub, sub.topic)
                continue
            scopes = self.scopes.get(sub.pubsub)
            if scopes is not None and not scopes.may_subscribe(sub.topic):
                log.warning("subscription to a topic the app is not scoped to skipped app_id=%s pubsub=%s topic=%s",
                            cfg.app_id, sub.pubsub, sub.topic)
                continue
            try:
                handler = SubscriptionHandler(sub, component, app.deliver, cfg.app_id)
                self._running.append(await component.subscribe(sub.topic, handler))
            except Exception as exc:
                log.error("subscribing failed app_id=%s pubsub=%s topic=%s error=%s", cfg.app_id, sub.pubsub,
                          sub.topic, exc)
        log.info("app subscriptions started app_id=%s count=%d", cfg.app_id, len(self._running))

    async def _list_app_subscriptions(self, app: SubscriberApp) -> list[Subscription]:
        for attempt in range(_LIST_ATTEMPTS):
            try:
                return await app.list_subscriptions()
            except Exception as exc:
                log.warning("asking the app for its subscriptions failed app_id=%s attempt=%d error=%s",
                            self._services.config.app_id, attempt + 1, exc)
                await asyncio.sleep(_LIST_RETRY_S)
        return []

    async def stop(self) -> None:
        if self._delayed_link is not None:
            await self._delayed_link.stop()
        if self._subscribing is not None:
            self._subscribing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._subscribing
        for running in self._running:
            await running.close()
        self._running.clear()
        for component in self.components.values():
            with contextlib.suppress(Exception):
                await component.close()
        if self._app is not None:
            await self._app.close()

"""Publishing, shared by the gRPC and HTTP APIs: daprd's checks and errors, the envelope, delayed publish.

Order of checks is daprd's: no pubsub at all, empty name, unknown name, empty topic, metadata; then the
envelope; then either the broker or (``scheduledSendTime``/``scheduledSendDelay``) the scheduler.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from daprjobs.components.pubsub.protocol import PubSubComponent
from daprjobs.sidecar.pubsub import errors
from daprjobs.sidecar.pubsub.cloudevents import EnvelopeError, MetadataError, build_envelope, is_raw_payload
from daprjobs.sidecar.pubsub.delayed import DelayedPublisher, HeldMessage, send_time_ns
from daprjobs.sidecar.pubsub.scopes import TopicScopes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BulkEntry:
    entry_id: str
    event: bytes
    content_type: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FailedEntry:
    entry_id: str
    error: str


class Publisher:
    def __init__(self, components: Mapping[str, PubSubComponent], app_id: str, delayed: DelayedPublisher,
                 scopes: Mapping[str, TopicScopes]) -> None:
        self._components = components
        self._app_id = app_id
        self._delayed = delayed
        self._scopes = scopes

    def component(self, pubsub: str, topic: str, metadata: Mapping[str, str]) -> PubSubComponent:
        """The component to publish to, or daprd's error for the name and topic."""
        if not self._components:
            raise errors.not_configured(pubsub, metadata)
        if not pubsub:
            raise errors.name_empty(metadata)
        component = self._components.get(pubsub)
        if component is None:
            raise errors.not_found(pubsub, metadata)
        if not topic:
            raise errors.topic_empty(pubsub, metadata)
        scopes = self._scopes.get(pubsub)
        if scopes is not None and not scopes.may_publish(topic):
            raise errors.forbidden(pubsub, topic, self._app_id)
        return component

    def message(self, pubsub: str, topic: str, body: bytes, content_type: str,
                metadata: Mapping[str, str]) -> tuple[bytes, int | None]:
        """The broker bytes and the time they may go out (None: now); raises daprd's errors."""
        try:
            raw = is_raw_payload(metadata)
            due_ns = send_time_ns(metadata, time.time_ns())
        except MetadataError as exc:
            raise errors.metadata_invalid(pubsub, metadata, str(exc)) from None
        if raw:
            return body, due_ns
        try:
            envelope = build_envelope(body, content_type, topic=topic, pubsub=pubsub, app_id=self._app_id,
                                      metadata=metadata)
        except EnvelopeError:
            raise errors.cloud_event_creation(pubsub, metadata) from None
        except MetadataError as exc:
            raise errors.metadata_invalid(pubsub, metadata, str(exc)) from None
        return envelope, due_ns

    async def send(self, component: PubSubComponent, pubsub: str, topic: str, data: bytes,
                   metadata: Mapping[str, str], due_ns: int | None) -> None:
        """Hand the message to the broker now, or to the scheduler until ``due_ns``; raises publish errors."""
        try:
            if due_ns is not None and due_ns > time.time_ns():
                await self._delayed.hold(HeldMessage(pubsub, topic, data, dict(metadata)), due_ns)
            else:
                await component.publish(topic, data, metadata)
        except Exception as exc:
            log.warning("publish failed app_id=%s pubsub=%s topic=%s error=%s", self._app_id, pubsub, topic, exc)
            raise errors.publish_failed(pubsub, topic, _error_text(exc)) from None

    async def publish(self, pubsub: str, topic: str, body: bytes, content_type: str,
                      metadata: Mapping[str, str]) -> None:
        component = self.component(pubsub, topic, metadata)
        data, due_ns = self.message(pubsub, topic, body, content_type, metadata)
        await self.send(component, pubsub, topic, data, metadata, due_ns)

    def bulk_messages(self, pubsub: str, topic: str, entries: Sequence[BulkEntry],
                      metadata: Mapping[str, str]) -> list[tuple[str, bytes, dict[str, str], int | None]]:
        """Every entry's broker bytes, checked before anything is published (entry metadata overrides)."""
        seen: set[str] = set()
        result = []
        for entry in entries:
            if not entry.entry_id or entry.entry_id in seen:
                detail = "entryId is duplicated" if entry.entry_id else "entryId is empty"
                raise errors.unmarshal_events(pubsub, topic, metadata, detail)
            seen.add(entry.entry_id)
            merged = {**metadata, **entry.metadata}
            data, due_ns = self.message(pubsub, topic, entry.event, entry.content_type, merged)
            result.append((entry.entry_id, data, merged, due_ns))
        return result

    async def publish_bulk(self, pubsub: str, topic: str, entries: Sequence[BulkEntry],
                           metadata: Mapping[str, str]) -> list[FailedEntry]:
        """Publish every entry (daprd loops: Redis has no bulk feature); returns the entries that failed."""
        component = self.component(pubsub, topic, metadata)
        failed = []
        for entry_id, data, merged, due_ns in self.bulk_messages(pubsub, topic, entries, metadata):
            try:
                await self.send(component, pubsub, topic, data, merged, due_ns)
            except errors.PubSubError as exc:
                failed.append(FailedEntry(entry_id, exc.message))
        return failed


def _error_text(exc: Exception) -> str:
    return str(exc) or type(exc).__name__

"""``pubsub.redis``: Dapr's Redis Streams pub/sub, wire-compatible with components-contrib.

- Publish: ``XADD <topic> [MAXLEN ~ n | MINID ~ id] * data <bytes> [metadata <JSON>]``; the stream is the topic.
- Subscribe: one consumer group per ``consumerID`` (default the app id), created at ``0`` so a new group reads the
  backlog; ``XREADGROUP ... >``; ``concurrency`` workers call the handler.
- Ack: ``XACK`` only when the handler says so (the block says so after SUCCESS or DROP). A handler that fails,
  says RETRY or outlives ``processingTimeout`` leaves the entry pending; every ``redeliverInterval`` entries idle
  for ``processingTimeout`` are ``XCLAIM``ed and handled again. Since contrib #4208 daprd acks failures too;
  daprjobs keeps them, so a crash of the app or the sidecar loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis import exceptions as redis_errors

from daprjobs.components.pubsub.protocol import BrokerMessage, MessageHandler, PublishError
from daprjobs.components.pubsub.redis_settings import RedisStreamsSettings

log = logging.getLogger(__name__)

_READ_BLOCK_MS = 1000
_ERROR_PAUSE_S = 1.0


class RedisStreamsPubSub:
    type = "pubsub.redis"
    version = "v1"
    # contrib's Features() is empty: daprd stamps `expiration` itself and loops for bulk publish.
    features: Sequence[str] = ()

    def __init__(self, name: str, settings: RedisStreamsSettings) -> None:
        self.name = name
        self.settings = settings
        self._client: aioredis.Redis | None = None
        self._subscriptions: list[RedisStreamSubscription] = []

    @property
    def client(self) -> aioredis.Redis:
        if self._client is None:
            raise RuntimeError(f"pubsub component {self.name!r} is not initialised")
        return self._client

    async def init(self) -> None:
        s = self.settings
        self._client = aioredis.Redis(
            host=s.host, port=s.port, username=s.username, password=s.password, db=s.db, ssl=s.tls,
            socket_connect_timeout=5, health_check_interval=30, max_connections=None,
        )
        await self._client.ping()

    async def publish(self, topic: str, data: bytes, metadata: Mapping[str, str]) -> None:
        fields: dict[Any, Any] = {"data": data}
        if metadata:
            fields["metadata"] = json.dumps(dict(metadata), separators=(",", ":"))
        s = self.settings
        trim: dict[str, Any] = {}
        if s.max_len_approx:
            trim = {"maxlen": s.max_len_approx, "approximate": True}
        elif s.stream_ttl_s:
            trim = {"minid": f"{int((time.time() - s.stream_ttl_s) * 1000)}-1", "approximate": True}
        try:
            await self.client.xadd(topic, fields, **trim)
        except (redis_errors.RedisError, OSError) as exc:
            raise PublishError(f"redis streams: error from publish: {exc}") from exc

    async def subscribe(self, topic: str, handler: MessageHandler) -> RedisStreamSubscription:
        subscription = RedisStreamSubscription(self.name, self.client, self.settings, topic, handler)
        await subscription.start()
        self._subscriptions.append(subscription)
        return subscription

    async def close(self) -> None:
        for subscription in self._subscriptions:
            await subscription.close()
        self._subscriptions.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def decode_entry(topic: str, entry_id: bytes | str, fields: Mapping[bytes, bytes]) -> BrokerMessage:
    raw_meta = fields.get(b"metadata")
    metadata: dict[str, str] = {}
    if raw_meta:
        try:
            parsed = json.loads(raw_meta)
            if isinstance(parsed, dict):
                metadata = {str(k): str(v) for k, v in parsed.items()}
        except ValueError:
            log.warning("stream entry has unreadable metadata topic=%s id=%s", topic, entry_id)
    broker_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return BrokerMessage(topic=topic, data=fields.get(b"data", b""), metadata=metadata, broker_id=broker_id)


class RedisStreamSubscription:
    """One consumer-group reader on one stream, its workers and its pending-entry reclaimer."""

    def __init__(self, component: str, client: aioredis.Redis, settings: RedisStreamsSettings, topic: str,
                 handler: MessageHandler) -> None:
        self.component = component
        self.topic = topic
        self._client = client
        self._settings = settings
        self._handler = handler
        self._group = settings.consumer_id
        self._queue: asyncio.Queue[BrokerMessage] = asyncio.Queue(maxsize=settings.queue_depth)
        # Entries read or claimed here and not yet finished: the reclaimer must not hand them out twice.
        self._in_flight: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self._ensure_group()
        name = f"redis-{self.component}-{self.topic}"
        self._tasks.append(asyncio.create_task(self._read_loop(), name=f"{name}-read"))
        for i in range(self._settings.concurrency):
            self._tasks.append(asyncio.create_task(self._work_loop(), name=f"{name}-worker-{i}"))
        if self._settings.redelivery_enabled:
            self._tasks.append(asyncio.create_task(self._reclaim_loop(), name=f"{name}-reclaim"))

    async def close(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _ensure_group(self) -> None:
        try:
            await self._client.xgroup_create(self.topic, self._group, id="0", mkstream=True)
        except redis_errors.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _enqueue(self, message: BrokerMessage) -> None:
        self._in_flight.add(message.broker_id)
        await self._queue.put(message)

    async def _read_loop(self) -> None:
        s = self._settings
        while True:
            try:
                replies: Any = await self._client.xreadgroup(
                    self._group, s.consumer_id, {self.topic: ">"}, count=s.queue_depth, block=_READ_BLOCK_MS
                )
                for _stream, entries in replies or []:
                    for entry_id, fields in entries:
                        await self._enqueue(decode_entry(self.topic, entry_id, fields or {}))
            except asyncio.CancelledError:
                raise
            except redis_errors.ResponseError as exc:
                if "NOGROUP" in str(exc):
                    log.warning("consumer group missing, recreating component=%s topic=%s group=%s",
                                self.component, self.topic, self._group)
                    await self._recreate_group()
                else:
                    log.error("redis read failed component=%s topic=%s error=%s", self.component, self.topic, exc)
                    await asyncio.sleep(_ERROR_PAUSE_S)
            except Exception as exc:
                log.error("redis read failed component=%s topic=%s error=%s", self.component, self.topic, exc)
                await asyncio.sleep(_ERROR_PAUSE_S)

    async def _recreate_group(self) -> None:
        try:
            await self._ensure_group()
        except Exception as exc:
            log.error("cannot create consumer group component=%s topic=%s error=%s", self.component, self.topic, exc)
            await asyncio.sleep(_ERROR_PAUSE_S)

    async def _work_loop(self) -> None:
        while True:
            message = await self._queue.get()
            try:
                await self._handle(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("message handling failed component=%s topic=%s id=%s", self.component, self.topic,
                              message.broker_id)
            finally:
                self._in_flight.discard(message.broker_id)

    async def _handle(self, message: BrokerMessage) -> None:
        timeout = self._settings.processing_timeout_s or None
        try:
            ack = await asyncio.wait_for(self._handler(message), timeout)
        except TimeoutError:
            log.warning("message not processed within processingTimeout, left for redelivery component=%s "
                        "topic=%s id=%s", self.component, self.topic, message.broker_id)
            return
        if ack:
            await self._client.xack(self.topic, self._group, message.broker_id)

    async def _reclaim_loop(self) -> None:
        s = self._settings
        while True:
            await asyncio.sleep(s.redeliver_interval_s)
            try:
                await self._reclaim_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("redelivery pass failed component=%s topic=%s error=%s", self.component, self.topic, exc)

    async def _reclaim_once(self) -> None:
        s = self._settings
        idle_ms = int(s.processing_timeout_s * 1000)
        pending: Any = await self._client.xpending_range(
            self.topic, self._group, min="-", max="+", count=s.queue_depth, idle=idle_ms
        )
        ids = [_text(p["message_id"]) for p in pending]
        ids = [i for i in ids if i not in self._in_flight]
        if not ids:
            return
        claimed: Any = await self._client.xclaim(self.topic, self._group, s.consumer_id, idle_ms, list[Any](ids))
        delivered: set[str] = set()
        for entry_id, fields in (e for e in claimed if e and e[0] is not None and e[1] is not None):
            message = decode_entry(self.topic, entry_id, fields)
            delivered.add(message.broker_id)
            await self._enqueue(message)
        for entry_id in ids:
            if entry_id not in delivered:
                await self._forget_if_deleted(entry_id)

    async def _forget_if_deleted(self, entry_id: str) -> None:
        """An entry trimmed or deleted from the stream can never be delivered again: ack it (as contrib does).

        A pending entry that was not claimed may also just have been claimed by another instance; it is only
        acked when the stream no longer holds it.
        """
        if not await self._client.xrange(self.topic, entry_id, entry_id):
            log.warning("pending entry was deleted from the stream, forgotten component=%s topic=%s id=%s",
                        self.component, self.topic, entry_id)
            await self._client.xack(self.topic, self._group, entry_id)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

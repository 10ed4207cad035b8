"""The ``pubsub.redis`` component's metadata: Dapr's names and defaults (components-contrib ``pubsub/redis``).

Durations are Go durations (``60s``, ``1m30s``) or bare numbers meaning **milliseconds**, as in Dapr. The code
defaults are contrib's (``processingTimeout`` 60s, ``redeliverInterval`` 15s), not its metadata.yaml's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from daprjobs.core.go_duration import parse_go_duration
from daprjobs.core.timeunits import NS_PER_MS, NS_PER_SECOND


class ComponentMetadataError(ValueError):
    """A metadata value of a component is missing or invalid; the message names the component and key."""


@dataclass(frozen=True)
class RedisStreamsSettings:
    host: str
    port: int
    password: str | None = field(repr=False)
    username: str | None
    tls: bool
    db: int
    consumer_id: str
    processing_timeout_s: float
    redeliver_interval_s: float
    queue_depth: int
    concurrency: int
    max_len_approx: int | None
    stream_ttl_s: float | None

    @property
    def redelivery_enabled(self) -> bool:
        return self.processing_timeout_s > 0 and self.redeliver_interval_s > 0


def expand_consumer_id(template: str, app_id: str, namespace: str) -> str:
    """daprd's metadata templates: ``{appID}``, ``{uuid}``, ``{namespace}``, ``{podName}`` (the app id here)."""
    return (template.replace("{appID}", app_id).replace("{namespace}", namespace)
            .replace("{podName}", app_id).replace("{uuid}", str(uuid.uuid4())))


def parse_settings(component: str, metadata: Mapping[str, str], app_id: str, namespace: str) -> RedisStreamsSettings:
    def fail(key: str, why: str) -> ComponentMetadataError:
        return ComponentMetadataError(f"pubsub component {component!r}: metadata {key}: {why}")

    host_port = metadata.get("redisHost", "").strip()
    if not host_port:
        raise fail("redisHost", "is required (host:port)")
    if "," in host_port or metadata.get("redisType", "node").lower() == "cluster" or metadata.get("failover") == "true":
        raise fail("redisHost", "Redis cluster and sentinel failover are not supported by daprjobs; give one host:port")
    host, _, port_text = host_port.rpartition(":")
    if not host or not port_text.isdigit():
        raise fail("redisHost", f"{host_port!r} is not host:port")

    def duration_s(key: str, default_s: float) -> float:
        text = metadata.get(key, "").strip()
        if not text:
            return default_s
        if text.isdigit():
            return int(text) * NS_PER_MS / NS_PER_SECOND
        try:
            return parse_go_duration(text) / NS_PER_SECOND
        except ValueError as exc:
            raise fail(key, f"{text!r} is neither a Go duration nor milliseconds ({exc})") from None

    def integer(key: str, default: int | None, minimum: int) -> int | None:
        text = metadata.get(key, "").strip()
        if not text:
            return default
        try:
            value = int(text)
        except ValueError:
            raise fail(key, f"{text!r} is not an integer") from None
        if value < minimum:
            raise fail(key, f"must be at least {minimum}")
        return value

    stream_ttl = duration_s("streamTTL", 0.0)
    consumer = metadata.get("consumerID", "").strip() or app_id
    return RedisStreamsSettings(
        host=host,
        port=int(port_text),
        password=metadata.get("redisPassword") or None,
        username=metadata.get("redisUsername") or None,
        tls=metadata.get("enableTLS", "").strip().lower() == "true",
        db=integer("redisDB", 0, 0) or 0,
        consumer_id=expand_consumer_id(consumer, app_id, namespace),
        processing_timeout_s=duration_s("processingTimeout", 60.0),
        redeliver_interval_s=duration_s("redeliverInterval", 15.0),
        queue_depth=integer("queueDepth", 100, 1) or 100,
        concurrency=integer("concurrency", 10, 1) or 10,
        max_len_approx=integer("maxLenApprox", None, 1),
        stream_ttl_s=stream_ttl or None,
    )

"""The CloudEvent daprd wraps a published message in (components-contrib ``pubsub/envelope.go``), and the
event a subscriber receives back.

Publish: unless ``rawPayload`` is true, the body becomes the ``data`` (JSON content) or ``data_base64``
(binary) of a CloudEvent 1.0 with daprd's fields; a body sent as ``application/cloudevents+json`` is kept,
with ``topic``/``pubsubname`` overwritten and missing defaults filled in. The envelope is JSON as Go writes
it (keys sorted).
"""

from __future__ import annotations

import base64
import datetime
import json
import uuid
from collections.abc import Mapping
from typing import Any

from daprjobs.core.go_duration import parse_go_duration
from daprjobs.core.timeunits import NS_PER_SECOND
from daprjobs.sidecar.errors import go_json_dumps

DEFAULT_TYPE = "com.dapr.event.sent"
DEFAULT_SOURCE = "Dapr"
DEFAULT_CONTENT_TYPE = "text/plain"
CLOUDEVENT_JSON = "application/cloudevents+json"
_BINARY_TYPES = ("application/octet-stream", "application/cloudevents+protobuf")
_GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")


class EnvelopeError(ValueError):
    """The body cannot become a CloudEvent (an ``application/cloudevents+json`` body that is not a JSON object)."""


class MetadataError(ValueError):
    """A metadata value daprd itself reads is invalid; ``str()`` is daprd's detail text."""


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def is_json_type(content_type: str) -> bool:
    return media_type(content_type) == "application/json"


def is_cloudevent_type(content_type: str) -> bool:
    return media_type(content_type) == CLOUDEVENT_JSON


def is_raw_payload(metadata: Mapping[str, str]) -> bool:
    """``rawPayload`` as Go's strconv.ParseBool reads it; anything else is daprd's metadata error."""
    value = metadata.get("rawPayload")
    if value is None or value == "":
        return False
    if value in _GO_TRUE:
        return True
    if value in _GO_FALSE:
        return False
    raise MetadataError(f"rawPayload value must be a valid boolean: actual is '{value}'")


def message_ttl_s(metadata: Mapping[str, str]) -> float | None:
    """``ttlInSeconds`` (integer seconds) or ``ttl`` (Go duration or integer seconds); must be positive."""
    for key in ("ttlInSeconds", "ttl"):
        text = metadata.get(key, "").strip()
        if not text:
            continue
        try:
            seconds = float(int(text)) if text.lstrip("-").isdigit() else parse_go_duration(text) / NS_PER_SECOND
        except ValueError:
            raise MetadataError(f"incorrect value for metadata '{key}': {text}") from None
        if seconds <= 0:
            raise MetadataError(f"incorrect value for metadata '{key}': must be positive, got {text}")
        return seconds
    return None


def go_rfc3339(moment: datetime.datetime) -> str:
    """Go's ``time.RFC3339`` (second precision, ``Z`` for UTC)."""
    text = moment.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _data_fields(body: bytes, content_type: str) -> dict[str, Any]:
    kind = media_type(content_type)
    if kind in _BINARY_TYPES:
        return {"data_base64": base64.b64encode(body).decode()}
    if kind == "application/json":
        try:
            return {"data": json.loads(body)}
        except ValueError:
            pass
    return {"data": body.decode("utf-8", errors="replace")}


def build_envelope(body: bytes, content_type: str, *, topic: str, pubsub: str, app_id: str,
                   metadata: Mapping[str, str], now: datetime.datetime | None = None) -> bytes:
    """The bytes daprd hands the broker for a publish (B.3); ``rawPayload`` is checked by the caller."""
    now = now or datetime.datetime.now(datetime.UTC)
    ttl = message_ttl_s(metadata)
    if is_cloudevent_type(content_type):
        event = _existing_event(body)
        event.setdefault("specversion", "1.0")
        event.setdefault("source", DEFAULT_SOURCE)
        event.setdefault("type", DEFAULT_TYPE)
        event.setdefault("time", go_rfc3339(now))
        if "traceid" not in event:
            event["traceid"] = event["traceparent"] = ""
        event.setdefault("tracestate", "")
    else:
        traceparent = metadata.get("cloudevent.traceparent") or metadata.get("cloudevent.traceid") or ""
        event = {
            "id": metadata.get("cloudevent.id") or str(uuid.uuid4()),
            "specversion": "1.0",
            "source": metadata.get("cloudevent.source") or app_id or DEFAULT_SOURCE,
            "type": metadata.get("cloudevent.type") or DEFAULT_TYPE,
            "datacontenttype": content_type or DEFAULT_CONTENT_TYPE,
            "traceid": traceparent,
            "traceparent": traceparent,
            "tracestate": metadata.get("cloudevent.tracestate", ""),
            "time": go_rfc3339(now),
            **_data_fields(body, content_type or DEFAULT_CONTENT_TYPE),
        }
        if metadata.get("cloudevent.subject"):
            event["subject"] = metadata["cloudevent.subject"]
    event["topic"] = topic
    event["pubsubname"] = pubsub
    if ttl is not None:
        # Redis Streams has no MESSAGE_TTL feature, so daprd stamps the expiry into the event itself.
        event["expiration"] = go_rfc3339(now.astimezone(datetime.UTC) + datetime.timedelta(seconds=ttl))
    return go_json_dumps(event)


def _existing_event(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise EnvelopeError(f"body is not JSON: {exc}") from None
    if not isinstance(event, dict):
        raise EnvelopeError("body is not a JSON object")
    return event


def raw_event(data: bytes, topic: str, pubsub: str) -> dict[str, Any]:
    """The CloudEvent daprd makes for a ``rawPayload`` subscription: the broker bytes as ``data_base64``."""
    return {
        "id": str(uuid.uuid4()), "specversion": "1.0", "source": DEFAULT_SOURCE, "type": DEFAULT_TYPE,
        "datacontenttype": "application/octet-stream", "data_base64": base64.b64encode(data).decode(),
        "topic": topic, "pubsubname": pubsub,
    }


def parse_event(data: bytes) -> dict[str, Any]:
    """The CloudEvent in a broker message; raises ``EnvelopeError`` when it is not a JSON object."""
    return _existing_event(data)


def is_expired(event: Mapping[str, Any], now: datetime.datetime | None = None) -> bool:
    expiration = event.get("expiration")
    if not isinstance(expiration, str) or not expiration:
        return False
    try:
        moment = datetime.datetime.fromisoformat(expiration.replace("Z", "+00:00"))
    except ValueError:
        return False
    return moment < (now or datetime.datetime.now(datetime.UTC))

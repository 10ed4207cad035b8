"""Calls from the sidecar into the app for pub/sub: its subscriptions and the delivery of each event.

HTTP (daprd ``postman/http``): ``POST /<path>`` with ``Content-Type: application/cloudevents+json``, the
message metadata as headers; 2xx with no/unknown-JSON body or ``{"status":"SUCCESS"}`` is SUCCESS,
``RETRY``/``DROP`` as said (case-sensitive; any other status string retries), 404 drops, anything else retries.
gRPC (daprd ``postman/grpc``): ``AppCallback/OnTopicEvent``; UNIMPLEMENTED counts as SUCCESS, errors retry.
"""

from __future__ import annotations

import base64
import enum
import json
import logging
import re
from collections.abc import Mapping
from typing import Any, Protocol

import aiohttp
import grpc
from dapr.proto.runtime.v1 import appcallback_pb2, appcallback_pb2_grpc
from google.protobuf import empty_pb2, struct_pb2

from daprjobs.sidecar.app_grpc_channel import open_app_grpc_channel
from daprjobs.sidecar.pubsub.cloudevents import is_json_type, media_type
from daprjobs.sidecar.pubsub.subscriptions import Subscription, from_grpc_app, from_http_app

log = logging.getLogger(__name__)

API_TOKEN_HEADER = "dapr-api-token"
_CORE_KEYS = frozenset(("id", "source", "datacontenttype", "type", "specversion", "data", "data_base64"))
_TEXT_TYPES = ("application/xml",)
# Message metadata becomes HTTP headers / gRPC metadata; entries that cannot be one are left out.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_HEADER_VALUE = re.compile(r"^[\t\x20-\x7e\x80-\xff]*$")
_GRPC_KEY = re.compile(r"^[0-9a-z_.-]+$")


class Outcome(enum.Enum):
    SUCCESS = "SUCCESS"
    RETRY = "RETRY"
    DROP = "DROP"


class SubscriberApp(Protocol):
    async def list_subscriptions(self) -> list[Subscription]: ...

    async def deliver(self, event: Mapping[str, Any], path: str, headers: Mapping[str, str]) -> Outcome: ...

    async def close(self) -> None: ...


def outcome_from_http(status: int, body: bytes) -> Outcome:
    if status == 404:
        return Outcome.DROP
    if not 200 <= status < 300:
        return Outcome.RETRY
    try:
        answer = json.loads(body) if body else None
    except ValueError:
        return Outcome.SUCCESS
    if not isinstance(answer, dict):
        return Outcome.SUCCESS
    value = answer.get("status")
    if value in (None, "", "SUCCESS"):
        return Outcome.SUCCESS
    if value == "DROP":
        return Outcome.DROP
    return Outcome.RETRY  # "RETRY", and any status daprd does not know (even "success")


class HttpSubscriberApp:
    def __init__(self, session: aiohttp.ClientSession, host: str, port: int, app_id: str,
                 app_token: str | None, timeout_s: float) -> None:
        self._session = session
        self._base = f"http://{host}:{port}"
        self._app_id = app_id
        self._token = app_token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    def _headers(self) -> dict[str, str]:
        return {API_TOKEN_HEADER: self._token} if self._token else {}

    async def list_subscriptions(self) -> list[Subscription]:
        async with self._session.get(f"{self._base}/dapr/subscribe", headers=self._headers(),
                                     timeout=self._timeout) as response:
            body = await response.read()
            if response.status == 404:
                return []
            if response.status != 200:
                log.warning("app's /dapr/subscribe answered status=%d, no subscriptions app_id=%s", response.status,
                            self._app_id)
                return []
        try:
            return from_http_app(json.loads(body), self._app_id)
        except ValueError:
            log.warning("app's /dapr/subscribe is not JSON, no subscriptions app_id=%s", self._app_id)
            return []

    async def deliver(self, event: Mapping[str, Any], path: str, headers: Mapping[str, str]) -> Outcome:
        out = {k: v for k, v in headers.items()
               if k.lower() not in ("content-length", "content-type", "host") and _HEADER_NAME.match(k)
               and _HEADER_VALUE.match(v)}
        out.update(self._headers())
        out["Content-Type"] = "application/cloudevents+json"
        body = json.dumps(event, separators=(",", ":")).encode()
        url = self._base + (path if path.startswith("/") else "/" + path)
        try:
            async with self._session.post(url, data=body, headers=out, timeout=self._timeout) as response:
                return outcome_from_http(response.status, await response.read())
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("event delivery to the app failed app_id=%s path=%s error=%s", self._app_id, path, exc)
            return Outcome.RETRY

    async def close(self) -> None:
        return None


def topic_event_request(event: Mapping[str, Any], path: str) -> appcallback_pb2.TopicEventRequest:
    """daprd's ``GRPCEnvelopeFromSubscriptionMessage``."""
    content_type = str(event.get("datacontenttype") or "")
    data = b""
    if "data_base64" in event:
        data = base64.b64decode(str(event["data_base64"]))
    elif "data" in event:
        value = event["data"]
        kind = media_type(content_type)
        if kind.startswith("text/") or kind in _TEXT_TYPES:
            data = value.encode() if isinstance(value, str) else json.dumps(value).encode()
        elif is_json_type(content_type) or kind == "application/cloudevents+json":
            data = json.dumps(value, separators=(",", ":")).encode()
    extensions = struct_pb2.Struct()
    extensions.update({k: v for k, v in event.items() if k not in _CORE_KEYS})
    return appcallback_pb2.TopicEventRequest(
        id=str(event.get("id", "")), source=str(event.get("source", "")), type=str(event.get("type", "")),
        spec_version=str(event.get("specversion", "")), data_content_type=content_type, data=data,
        topic=str(event.get("topic", "")), pubsub_name=str(event.get("pubsubname", "")), path=path,
        extensions=extensions,
    )


_GRPC_STATUS = {
    appcallback_pb2.TopicEventResponse.SUCCESS: Outcome.SUCCESS,
    appcallback_pb2.TopicEventResponse.RETRY: Outcome.RETRY,
    appcallback_pb2.TopicEventResponse.DROP: Outcome.DROP,
}


class GrpcSubscriberApp:
    def __init__(self, host: str, port: int, app_id: str, app_token: str | None, timeout_s: float,
                 max_message_size: int) -> None:
        # The shared app channel settings: a restarted app is reached again within a second, not two minutes.
        self._channel = open_app_grpc_channel(host, port, max_message_size)
        self._stub = appcallback_pb2_grpc.AppCallbackStub(self._channel)  # type: ignore[no-untyped-call]
        self._app_id = app_id
        self._metadata = ((API_TOKEN_HEADER, app_token),) if app_token else ()
        self._timeout_s = timeout_s

    async def list_subscriptions(self) -> list[Subscription]:
        try:
            response = await self._stub.ListTopicSubscriptions(empty_pb2.Empty(), metadata=self._metadata,
                                                                timeout=self._timeout_s)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNIMPLEMENTED:
                return []
            raise
        return from_grpc_app(response)

    async def deliver(self, event: Mapping[str, Any], path: str, headers: Mapping[str, str]) -> Outcome:
        request = topic_event_request(event, path)
        metadata = tuple((k.lower(), v) for k, v in headers.items()
                         if _GRPC_KEY.match(k.lower()) and not k.lower().endswith("-bin") and v.isascii()
                         and _HEADER_VALUE.match(v)) + self._metadata
        try:
            response = await self._stub.OnTopicEvent(request, metadata=metadata, timeout=self._timeout_s)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNIMPLEMENTED:
                log.warning("app does not handle this topic (UNIMPLEMENTED), event dropped as daprd does "
                            "app_id=%s topic=%s path=%s", self._app_id, request.topic, path)
                return Outcome.SUCCESS
            log.warning("event delivery to the app failed app_id=%s topic=%s code=%s", self._app_id, request.topic,
                        exc.code().name)
            return Outcome.RETRY
        return _GRPC_STATUS.get(response.status, Outcome.RETRY)

    async def close(self) -> None:
        await self._channel.close()

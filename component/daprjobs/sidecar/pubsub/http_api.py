"""HTTP publish routes (daprd ``constructPubSubEndpoints``): ``/v1.0/publish/{pubsub}/{topic…}`` and the bulk
routes ``/v1.0[-alpha1]/publish/bulk/{pubsub}/{topic…}``; 204 on success, daprd's kit errors otherwise."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from daprjobs.sidecar.errors import KitError, LegacyApiError, go_json_dumps
from daprjobs.sidecar.http_body import JSON, error_response, read_body_limited
from daprjobs.sidecar.pubsub import errors
from daprjobs.sidecar.pubsub.cloudevents import is_cloudevent_type, is_json_type, media_type
from daprjobs.sidecar.pubsub.publisher import BulkEntry, Publisher


def request_metadata(request: web.Request) -> dict[str, str]:
    """Every ``metadata.<key>`` query parameter, first value only (daprd ``getMetadataFromRequest``)."""
    result: dict[str, str] = {}
    for key, value in request.query.items():
        if key.startswith("metadata.") and key[len("metadata."):] not in result:
            result[key[len("metadata."):]] = value
    return result


def entry_bytes(event: Any, content_type: str) -> bytes:
    """daprd ``ConvertEventToBytes``; raises ValueError with its reason."""
    kind = media_type(content_type)
    if kind == "application/octet-stream":
        if not isinstance(event, str):
            raise ValueError("event data must be a base64 encoded string for content type application/octet-stream")
        try:
            return base64.b64decode(event, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"event data is not valid base64: {exc}") from None
    if kind.startswith("text/") or kind == "application/xml":
        if not isinstance(event, str):
            raise ValueError(f"event data must be a string for content type {content_type}")
        return event.encode()
    if is_json_type(content_type) or is_cloudevent_type(content_type):
        return json.dumps(event, separators=(",", ":")).encode()
    raise ValueError(f"cannot convert event data of content type {content_type!r} to bytes")


class PublishHttpApi:
    def __init__(self, publisher: Publisher, max_body_size: int) -> None:
        self._publisher = publisher
        self._max_body_size = max_body_size

    def routes(self) -> list[web.AbstractRouteDef]:
        single = "/v1.0/publish/{pubsub:[^/]*}/{topic:.*}"
        bulk = ("/v1.0-alpha1/publish/bulk/{pubsub:[^/]*}/{topic:.*}", "/v1.0/publish/bulk/{pubsub:[^/]*}/{topic:.*}")
        defs: list[web.AbstractRouteDef] = []
        # Bulk first: `/v1.0/publish/bulk/...` would otherwise read as pubsub "bulk".
        for path in bulk:
            defs += [web.post(path, self.bulk), web.put(path, self.bulk)]
        defs += [web.post(single, self.publish), web.put(single, self.publish)]
        return defs

    async def publish(self, request: web.Request) -> web.Response:
        metadata = request_metadata(request)
        try:
            body = await read_body_limited(request, self._max_body_size)
            await self._publisher.publish(request.match_info["pubsub"], request.match_info["topic"], body,
                                          request.headers.get("Content-Type", ""), metadata)
        except (KitError, LegacyApiError) as err:
            return error_response(err)
        return web.Response(status=204)

    async def bulk(self, request: web.Request) -> web.Response:
        pubsub, topic = request.match_info["pubsub"], request.match_info["topic"]
        metadata = request_metadata(request)
        try:
            self._publisher.component(pubsub, topic, metadata)
            body = await read_body_limited(request, self._max_body_size)
            entries = _bulk_entries(body, pubsub, topic, metadata)
            failed = await self._publisher.publish_bulk(pubsub, topic, entries, metadata)
        except (KitError, LegacyApiError) as err:
            return error_response(err)
        if not failed:
            return web.Response(status=204)
        answer = {"failedEntries": [{"entryId": f.entry_id, "error": f.error} for f in failed],
                  "errorCode": "ERR_PUBSUB_PUBLISH_MESSAGE"}
        return web.Response(status=500, body=go_json_dumps(answer), content_type=JSON)


def _bulk_entries(body: bytes, pubsub: str, topic: str, metadata: Mapping[str, str]) -> list[BulkEntry]:
    try:
        items = json.loads(body)
    except ValueError as exc:
        raise errors.unmarshal_events(pubsub, topic, metadata, str(exc) or "unexpected end of JSON input") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise errors.unmarshal_events(pubsub, topic, metadata,
                                      "json: cannot unmarshal object into Go value of type "
                                      "[]http.bulkPublishMessageEntry")
    entries = []
    for item in items:
        content_type = str(item.get("contentType") or "")
        try:
            data = entry_bytes(item.get("event"), content_type)
        except ValueError as exc:
            raise errors.marshal_events(pubsub, topic, str(exc)) from None
        meta = item.get("metadata") or {}
        entries.append(BulkEntry(str(item.get("entryId") or ""), data, content_type,
                                 {str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {}))
    return entries

"""The State API's HTTP routes (daprd ``pkg/api/http/http.go``): ``/v1.0/state/{store}[/{key}|/bulk|/transaction]``
and ``/v1.0-alpha1/state/{store}/query``."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aiohttp import web

from daprjobs.components.state.api import DeleteRequest, SetRequest, StateOperation, StateStoreError
from daprjobs.components.state.keys import app_key
from daprjobs.components.state.registry import OpenedStateStore
from daprjobs.sidecar.errors import KitError, LegacyApiError, malformed_request
from daprjobs.sidecar.http_body import JSON, error_response, read_body_limited
from daprjobs.sidecar.state import errors
from daprjobs.sidecar.state.http_bodies import BodyError, ItemBody, parse_bulk_get, parse_save, parse_transaction
from daprjobs.sidecar.state.lookup import StoreLookup, store_key

METADATA_PREFIX = "metadata."


def query_metadata(request: web.Request) -> dict[str, str]:
    """daprd's getMetadataFromRequest: every ``metadata.<name>`` query parameter (first value)."""
    out: dict[str, str] = {}
    for name, value in request.query.items():
        if name.startswith(METADATA_PREFIX) and name[len(METADATA_PREFIX):] not in out:
            out[name[len(METADATA_PREFIX):]] = value
    return out


def _bulk_entry(key: str, data: bytes | None, etag: str | None, metadata: dict[str, str]) -> dict[str, object]:
    entry: dict[str, object] = {"key": key}
    if data:
        try:
            entry["data"] = json.loads(data)
        except ValueError:  # daprd would fail to encode the whole answer; the text is more useful
            entry["data"] = data.decode("utf-8", "replace")
    if etag is not None:
        entry["etag"] = etag
    if metadata:
        entry["metadata"] = metadata
    return entry


class StateHttpRoutes:
    def __init__(self, lookup: StoreLookup, max_body_size: int) -> None:
        self._lookup = lookup
        self._max_body = max_body_size

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        out: list[web.AbstractRouteDef] = [web.get("/v1.0/state/{store}/{key}", self.get_state, allow_head=False),
                                           web.delete("/v1.0/state/{store}/{key}", self.delete_state)]
        for method in ("POST", "PUT"):
            out.append(web.route(method, "/v1.0/state/{store}", self.save_state))
            out.append(web.route(method, "/v1.0/state/{store}/bulk", self.get_bulk_state))
            out.append(web.route(method, "/v1.0/state/{store}/transaction", self.execute_transaction))
            out.append(web.route(method, "/v1.0-alpha1/state/{store}/query", self.query_state))
        return out

    def _store(self, request: web.Request) -> OpenedStateStore:
        return self._lookup.store(request.match_info["store"], http=True)

    async def _body(self, request: web.Request) -> bytes:
        try:
            return await read_body_limited(request, self._max_body)
        except LegacyApiError:
            raise BodyError("stream too large") from None

    async def get_state(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        try:
            opened = self._store(request)
            try:
                item = await opened.store.get(store_key(opened, key), request.query.get("consistency", ""))
            except StateStoreError as err:
                raise errors.http_error("ERR_STATE_GET", errors.MSG_GET.format(
                    key=key, store=opened.name, error=err), 500) from None
        except (KitError, LegacyApiError) as err:
            return error_response(err)
        if item is None:
            return web.Response(status=204)
        headers = {"ETag": item.etag} if item.etag else {}
        headers.update({METADATA_PREFIX + k: v for k, v in item.metadata.items()})
        return web.Response(status=200, body=item.data, headers=headers, content_type=JSON)

    async def delete_state(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        try:
            opened = self._store(request)
            delete = DeleteRequest(store_key(opened, key), request.headers.get("If-Match"),
                                   request.query.get("concurrency", ""), request.query.get("consistency", ""),
                                   query_metadata(request))
            try:
                await opened.store.delete(delete)
            except StateStoreError as err:
                raise errors.http_write_failure(err, "ERR_STATE_DELETE", errors.MSG_DELETE.format(
                    key=key, error=err)) from None
        except (KitError, LegacyApiError) as err:
            return error_response(err)
        return web.Response(status=204)

    async def save_state(self, request: web.Request) -> web.Response:
        try:
            opened = self._store(request)
            try:
                items = parse_save(await self._body(request))
            except BodyError as exc:
                raise errors.http_error("ERR_MALFORMED_REQUEST", str(exc), 400) from None
            metadata = query_metadata(request)
            writes = [self._set_request(opened, item, metadata) for item in items]
            if not writes:
                return web.Response(status=204)
            try:
                await (opened.store.set(writes[0]) if len(writes) == 1 else opened.store.bulk_set(writes))
            except StateStoreError as err:
                raise errors.http_write_failure(err, "ERR_STATE_SAVE", errors.MSG_SAVE.format(
                    store=opened.name, error=errors.store_error_text(err))) from None
        except (KitError, LegacyApiError) as err:
            return error_response(err)
        return web.Response(status=204)

    @staticmethod
    def _set_request(opened: OpenedStateStore, item: ItemBody, query: dict[str, str]) -> SetRequest:
        if not item.key:
            raise errors.http_error("ERR_MALFORMED_REQUEST", '"key" is a required field', 400)
        return item.set_request(store_key(opened, item.key), query)

    async def get_bulk_state(self, request: web.Request) -> web.Response:
        try:
            opened = self._store(request)
            try:
                body = parse_bulk_get(await self._body(request))
            except BodyError as exc:
                raise malformed_request(str(exc)) from None
            keys = [store_key(opened, k) for k in body.keys]
            try:
                found = await opened.store.bulk_get(keys) if keys else []
            except StateStoreError as err:
                raise errors.http_error("ERR_STATE_BULK_GET", str(err), 500) from None
        except (KitError, LegacyApiError) as err:
            return error_response(err)
        entries = [_bulk_entry(app_key(e.key), e.item.data if e.item else None, e.item.etag if e.item else None,
                               dict(e.item.metadata) if e.item else {}) for e in found]
        return web.json_response(entries)

    async def execute_transaction(self, request: web.Request) -> web.Response:
        try:
            opened = self._store(request)
            try:
                body = parse_transaction(await self._body(request))
            except BodyError as exc:
                raise malformed_request(str(exc)) from None
            if not body.operations:
                return web.Response(status=204)
            metadata = {**body.metadata, **query_metadata(request)}
            operations = [self._operation(opened, kind, item, query_metadata(request))
                          for kind, item in body.operations]
            limit = opened.store.multi_max_size()
            if limit and len(operations) > limit:
                raise errors.too_many_operations(opened.name, len(operations), limit)
            try:
                await opened.store.multi(operations, metadata)
            except StateStoreError as err:
                raise errors.http_error("ERR_STATE_TRANSACTION", errors.MSG_TRANSACTION.format(error=err),
                                        500) from None
        except (KitError, LegacyApiError) as err:
            return error_response(err)
        return web.Response(status=204)

    @staticmethod
    def _operation(opened: OpenedStateStore, kind: str, item: ItemBody, query: dict[str, str]) -> StateOperation:
        if kind == "upsert":
            return item.set_request(store_key(opened, item.key), query)
        if kind == "delete":
            return item.delete_request(store_key(opened, item.key), query)
        raise errors.http_error("ERR_NOT_SUPPORTED_STATE_OPERATION", f"operation type {kind} not supported", 400)

    async def query_state(self, request: web.Request) -> web.Response:
        try:
            raise errors.query_unsupported(self._store(request).name)
        except KitError as err:
            return error_response(err)

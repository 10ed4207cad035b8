"""The actor HTTP API under ``/v1.0/actors/{type}/{id}/`` (wire-compat §D.1-D.3, §D.7) and the internal
forwarding routes (``forwarding``). Thin: parse, call the operations, render; every failure is an
``ActorApiError`` rendered as ``{"errorCode","message"}`` with its status.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from google.protobuf import any_pb2

from daprjobs.actors import actor_errors, reminders, stateops
from daprjobs.actors.actor_app_channel import AppResponse
from daprjobs.actors.actor_errors import ActorApiError
from daprjobs.actors.forwarding import (
    HAS_DATA_HEADER,
    INTERNAL_PREFIX,
    REMINDER_OUTCOME_HEADER,
    actor_error_response,
    timer_from_json,
)
from daprjobs.actors.operations import ActorOperations
from daprjobs.actors.timers import parse_http_timer
from daprjobs.core.trigger_id import TRIGGER_ID_HEADER

log = logging.getLogger(__name__)

API_PREFIX = "/v1.0/actors/{actorType}/{actorId}"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Response headers of the app that describe its connection, not its answer.
_SKIP_RESPONSE_HEADERS = frozenset(
    ("content-length", "transfer-encoding", "connection", "keep-alive", "date", "server", "content-encoding")
)


def error_response(err: ActorApiError) -> web.Response:
    return web.Response(status=err.http_status, body=err.http_body(), content_type="application/json")


def _guarded(handler: Handler) -> Handler:
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ActorApiError as err:
            log.debug("actor API error path=%s error=%r", request.path, err)
            return error_response(err)

    return wrapper


def _app_response(response: AppResponse) -> web.Response:
    out = web.Response(status=response.status, body=response.body)
    for key, value in response.headers:
        if key.lower() in _SKIP_RESPONSE_HEADERS:
            continue
        if key.lower() == "content-type":
            out.headers["Content-Type"] = value
        else:
            out.headers.add(key, value)
    return out


def _actor(request: web.Request) -> tuple[str, str]:
    return request.match_info["actorType"], request.match_info["actorId"]


class ActorHttpRoutes:
    def __init__(self, ops: ActorOperations) -> None:
        self._ops = ops

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        out: list[web.AbstractRouteDef] = []
        for verb in ("GET", "POST", "PUT", "DELETE"):
            out.append(web.route(verb, API_PREFIX + "/method/{method:.+}", _guarded(self.invoke)))
        for verb in ("PUT", "POST"):
            out.append(web.route(verb, API_PREFIX + "/reminders/{name}", _guarded(self.put_reminder)))
            out.append(web.route(verb, API_PREFIX + "/timers/{name}", _guarded(self.put_timer)))
            out.append(web.route(verb, API_PREFIX + "/state", _guarded(self.state_transaction)))
        out.append(web.route("GET", API_PREFIX + "/reminders/{name}", _guarded(self.get_reminder)))
        out.append(web.route("DELETE", API_PREFIX + "/reminders/{name}", _guarded(self.delete_reminder)))
        out.append(web.route("DELETE", API_PREFIX + "/timers/{name}", _guarded(self.delete_timer)))
        out.append(web.route("GET", API_PREFIX + "/state/{key}", _guarded(self.get_state)))
        internal = INTERNAL_PREFIX + "/{actorType}/{actorId}"
        out.append(web.route("PUT", internal + "/method/{method:.+}", self.internal_invoke))
        out.append(web.route("PUT", internal + "/remind/{name}", self.internal_remind))
        out.append(web.route("PUT", internal + "/timers/{name}", self.internal_put_timer))
        out.append(web.route("DELETE", internal + "/timers/{name}", self.internal_delete_timer))
        return out

    async def invoke(self, request: web.Request) -> web.StreamResponse:
        actor_type, actor_id = _actor(request)
        body = await request.read()
        response = await self._ops.invocation.invoke(
            actor_type, actor_id, request.match_info["method"], body, list(request.headers.items())
        )
        return _app_response(response)

    async def put_reminder(self, request: web.Request) -> web.StreamResponse:
        actor_type, actor_id = _actor(request)
        spec = reminders.parse_http_reminder(actor_type, actor_id, request.match_info["name"], await request.read())
        await self._ops.reminders.register_reminder(spec)
        return web.Response(status=204)

    async def get_reminder(self, request: web.Request) -> web.StreamResponse:
        actor_type, actor_id = _actor(request)
        view = await self._ops.reminders.get_reminder(actor_type, actor_id, request.match_info["name"])
        return web.Response(status=200, body=reminders.http_get_body(view), content_type="application/json")

    async def delete_reminder(self, request: web.Request) -> web.StreamResponse:
        actor_type, actor_id = _actor(request)
        await self._ops.reminders.unregister_reminder(actor_type, actor_id, request.match_info["name"])
        return web.Response(status=204)

    async def put_timer(self, request: web.Request) -> web.StreamResponse:
        actor_type, actor_id = _actor(request)
        spec = parse_http_timer(actor_type, actor_id, request.match_info["name"], await request.read())
        await self._ops.timers.register_timer(spec)
        return web.Response(status=204)

    async def delete_timer(self, request: web.Request) -> web.StreamResponse:
        actor_type, actor_id = _actor(request)
        await self._ops.timers.unregister_timer(actor_type, actor_id, request.match_info["name"])
        return web.Response(status=204)

    async def get_state(self, request: web.Request) -> web.StreamResponse:
        actor_type, actor_id = _actor(request)
        value = await self._ops.state.get_state(actor_type, actor_id, request.match_info["key"])
        if value is None:
            return web.Response(status=204)
        return web.Response(status=200, body=value, content_type="application/json")

    async def state_transaction(self, request: web.Request) -> web.StreamResponse:
        actor_type, actor_id = _actor(request)
        ops = stateops.parse_http_transaction(await request.read())
        await self._ops.state.transact_state(actor_type, actor_id, ops)
        return web.Response(status=204)

    # ------------------------------------------------------------------ internal forwarding (the actor is here)

    async def internal_invoke(self, request: web.Request) -> web.StreamResponse:
        actor_type, actor_id = _actor(request)
        try:
            response = await self._ops.invocation.invoke_local(
                actor_type, actor_id, request.match_info["method"], await request.read(), list(request.headers.items())
            )
        except ActorApiError as err:
            response = actor_error_response(err)
        return _app_response(response)

    async def internal_remind(self, request: web.Request) -> web.StreamResponse:
        actor_type, actor_id = _actor(request)
        body = await request.read()
        data: any_pb2.Any | None = None
        if request.headers.get(HAS_DATA_HEADER) == "1":
            data = any_pb2.Any()
            data.ParseFromString(body)
        outcome = await self._ops.reminder_delivery.remind_local(actor_type, actor_id, request.match_info["name"], data,
                                                                 request.headers.get(TRIGGER_ID_HEADER))
        return web.Response(status=200, headers={REMINDER_OUTCOME_HEADER: outcome.value})

    async def internal_put_timer(self, request: web.Request) -> web.StreamResponse:
        try:
            spec = timer_from_json(await request.read())
        except (ValueError, TypeError) as err:
            return _app_response(actor_error_response(actor_errors.malformed_request(str(err))))
        try:
            self._ops.timers.create_timer_local(spec)
        except ActorApiError as err:
            return _app_response(actor_error_response(err))
        return web.Response(status=204)

    async def internal_delete_timer(self, request: web.Request) -> web.StreamResponse:
        actor_type, actor_id = _actor(request)
        self._ops.timers.delete_timer_local(actor_type, actor_id, request.match_info["name"])
        return web.Response(status=204)

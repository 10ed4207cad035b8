"""Sidecar-to-sidecar forwarding: calls for an actor placed on another host go to that host's sidecar.

Internal HTTP routes, served next to the Dapr API on each sidecar's HTTP port (the address it registers in
placement). The receiving sidecar always runs the call locally, so a call is forwarded at most once:
- ``PUT  /daprjobs-internal/v1/actors/{t}/{id}/method/{m}``: an invocation; the caller's body and headers in,
  the app's status, headers and body out. A failure of the receiving sidecar itself (not of the app) comes back
  as an ``ActorApiError`` JSON body marked with ``X-Daprjobs-Actor-Error: <gRPC code name>``.
- ``PUT  /daprjobs-internal/v1/actors/{t}/{id}/remind/{name}``: a reminder delivery; the body is the stored data
  ``Any`` in protobuf form (``X-Daprjobs-Has-Data`` says whether there is one); the answer's
  ``X-Daprjobs-Reminder`` is ``ok``, ``cancel`` or ``failed``.
- ``PUT|DELETE /daprjobs-internal/v1/actors/{t}/{id}/timers/{name}``: timer registration on the actor's host.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import asdict
from enum import Enum
from urllib.parse import quote

import aiohttp
import grpc
from google.protobuf import any_pb2

from daprjobs.actors.actor_app_channel import AppResponse, forwardable_headers
from daprjobs.actors.actor_errors import ActorApiError
from daprjobs.actors.timers import TimerSpec
from daprjobs.core.trigger_id import TRIGGER_ID_HEADER

log = logging.getLogger(__name__)

INTERNAL_PREFIX = "/daprjobs-internal/v1/actors"
ACTOR_ERROR_HEADER = "X-Daprjobs-Actor-Error"
HAS_DATA_HEADER = "X-Daprjobs-Has-Data"
REMINDER_OUTCOME_HEADER = "X-Daprjobs-Reminder"


class ReminderOutcome(Enum):
    OK = "ok"
    CANCEL = "cancel"
    FAILED = "failed"


class PeerUnreachable(Exception):
    """The other sidecar did not answer: it is probably gone."""


def actor_error_response(err: ActorApiError) -> AppResponse:
    return AppResponse(
        err.http_status,
        err.http_body(),
        [("Content-Type", "application/json"), (ACTOR_ERROR_HEADER, err.grpc_code.name)],
    )


def actor_error_from(response: AppResponse) -> ActorApiError | None:
    code_name = response.header(ACTOR_ERROR_HEADER)
    if code_name is None:
        return None
    try:
        doc = json.loads(response.body)
        error_code, message = str(doc["errorCode"]), str(doc["message"])
    except (ValueError, KeyError, TypeError):
        error_code, message = "ERR_ACTOR_INVOKE_METHOD", response.body.decode("utf-8", "replace")
    code = grpc.StatusCode.__members__.get(code_name, grpc.StatusCode.INTERNAL)
    return ActorApiError(response.status, code, error_code, message)


def timer_to_json(spec: TimerSpec) -> bytes:
    doc = asdict(spec)
    doc["data"] = base64.b64encode(spec.data).decode() if spec.data is not None else None
    return json.dumps(doc).encode()


def timer_from_json(body: bytes) -> TimerSpec:
    doc = json.loads(body)
    data = doc.pop("data", None)
    return TimerSpec(**doc, data=base64.b64decode(data) if data is not None else None)


class PeerClient:
    def __init__(self, session: aiohttp.ClientSession, api_token: str | None = None) -> None:
        self._session = session
        self._token = api_token
        self._timeout = aiohttp.ClientTimeout(total=300, sock_connect=3)

    def _url(self, address: str, actor_type: str, actor_id: str, suffix: str) -> str:
        return f"http://{address}{INTERNAL_PREFIX}/{quote(actor_type, safe='')}/{quote(actor_id, safe='')}{suffix}"

    async def _request(
        self, method: str, url: str, body: bytes, headers: list[tuple[str, str]]
    ) -> AppResponse:
        if self._token:
            headers = [*headers, ("dapr-api-token", self._token)]
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=self._timeout, allow_redirects=False
            ) as resp:
                return AppResponse(resp.status, await resp.read(), list(resp.headers.items()))
        except (aiohttp.ClientConnectionError, TimeoutError, ConnectionError) as err:
            raise PeerUnreachable(f"{method} {url}: {err or type(err).__name__}") from err

    async def invoke(
        self,
        address: str,
        actor_type: str,
        actor_id: str,
        method: str,
        body: bytes,
        headers: list[tuple[str, str]],
    ) -> AppResponse:
        url = self._url(address, actor_type, actor_id, "/method/" + quote(method, safe="/"))
        return await self._request("PUT", url, body, forwardable_headers(headers))

    async def remind(
        self, address: str, actor_type: str, actor_id: str, name: str, data: any_pb2.Any | None,
        trigger_id: str | None = None,
    ) -> ReminderOutcome:
        url = self._url(address, actor_type, actor_id, "/remind/" + quote(name, safe=""))
        body = data.SerializeToString() if data is not None else b""
        headers = [(HAS_DATA_HEADER, "1" if data is not None else "0")]
        if trigger_id:
            headers.append((TRIGGER_ID_HEADER, trigger_id))
        response = await self._request("PUT", url, body, headers)
        outcome = response.header(REMINDER_OUTCOME_HEADER)
        if outcome == ReminderOutcome.OK.value:
            return ReminderOutcome.OK
        if outcome == ReminderOutcome.CANCEL.value:
            return ReminderOutcome.CANCEL
        return ReminderOutcome.FAILED

    async def create_timer(self, address: str, spec: TimerSpec) -> None:
        url = self._url(address, spec.actor_type, spec.actor_id, "/timers/" + quote(spec.name, safe=""))
        response = await self._request("PUT", url, timer_to_json(spec), [("Content-Type", "application/json")])
        self._raise_for(response)

    async def delete_timer(self, address: str, actor_type: str, actor_id: str, name: str) -> None:
        url = self._url(address, actor_type, actor_id, "/timers/" + quote(name, safe=""))
        self._raise_for(await self._request("DELETE", url, b"", []))

    @staticmethod
    def _raise_for(response: AppResponse) -> None:
        if response.status < 300:
            return
        err = actor_error_from(response)
        if err is not None:
            raise err
        raise ActorApiError(
            500,
            grpc.StatusCode.INTERNAL,
            "ERR_ACTOR_TIMER_CREATE",
            f"error from actor host: ({response.status}) {response.body[:200].decode('utf-8', 'replace')}",
        )

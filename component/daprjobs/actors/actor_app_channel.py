"""Calls from the sidecar into the app's actors: the HTTP actor protocol (wire-compat §D.4).

- ``GET /dapr/config`` (header ``Dapr-App-Id``) once the app port answers;
- ``PUT /actors/{t}/{id}/method/{m}``: the caller's body and headers; the app's status, headers and body back;
- ``PUT /actors/{t}/{id}/method/remind/{name}`` and ``…/method/timer/{name}``: JSON bodies;
- ``DELETE /actors/{t}/{id}``: deactivation.
Every callback carries ``content-type: application/json`` (Node's body parser needs it) and the app API token
when one is configured. The stream transport (``stream_host``) offers the same ``ActorAppChannel`` interface.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

import aiohttp
from google.protobuf import any_pb2

from daprjobs.actors import reminders
from daprjobs.actors.timers import TimerSpec, fire_body
from daprjobs.core.trigger_id import TRIGGER_ID_HEADER

log = logging.getLogger(__name__)

JSON = "application/json"
REMINDER_CANCEL_HEADER = "X-DaprReminderCancel"
ERROR_RESPONSE_HEADER = "X-DaprErrorResponseHeader"
REENTRANCY_HEADER = "Dapr-Reentrancy-Id"

# Headers that describe one hop, not the call: never forwarded to the app.
_HOP_HEADERS = frozenset(
    h.lower()
    for h in (
        "Host", "Content-Length", "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Upgrade",
        "Proxy-Authorization", "Proxy-Authenticate", "Trailer", "Accept-Encoding", "dapr-api-token",
    )
)


@dataclass
class AppResponse:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    @property
    def content_type(self) -> str:
        return self.header("Content-Type") or ""


class AppUnreachable(Exception):
    """The app did not answer (connection refused, reset, timeout, stream gone)."""


class ActorAppChannel(Protocol):
    async def invoke(
        self, actor_type: str, actor_id: str, method: str, body: bytes, headers: list[tuple[str, str]]
    ) -> AppResponse: ...

    async def remind(self, actor_type: str, actor_id: str, name: str, data: any_pb2.Any | None,
                     trigger_id: str | None = None) -> AppResponse: ...

    async def timer(self, spec: TimerSpec) -> AppResponse: ...

    async def deactivate(self, actor_type: str, actor_id: str) -> AppResponse: ...


def is_reminder_cancel(response: AppResponse) -> bool:
    value = response.header(REMINDER_CANCEL_HEADER)
    return value is not None and value.strip().lower() in ("true", "1", "t", "yes", "y", "on")


def forwardable_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in _HOP_HEADERS]


class HttpActorChannel:
    """The HTTP actor protocol to an app that serves it on its app port."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        app_id: str,
        app_api_token: str | None = None,
        timeout_s: float = 300.0,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._app_id = app_id
        self._token = app_api_token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    def _url(self, actor_type: str, actor_id: str, suffix: str = "") -> str:
        return f"{self._base}/actors/{quote(actor_type, safe='')}/{quote(actor_id, safe='')}{suffix}"

    def _headers(self, extra: list[tuple[str, str]] | None = None, content_type: str | None = JSON) -> list[
        tuple[str, str]
    ]:
        headers = list(extra or [])
        if content_type is not None and not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", content_type))
        if self._token:
            headers.append(("dapr-api-token", self._token))
        return headers

    async def _request(self, method: str, url: str, body: bytes, headers: list[tuple[str, str]]) -> AppResponse:
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=self._timeout, allow_redirects=False
            ) as resp:
                data = await resp.read()
                return AppResponse(resp.status, data, list(resp.headers.items()))
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as err:
            raise AppUnreachable(f"{method} {url}: {err or type(err).__name__}") from err

    async def get_config(self) -> AppResponse:
        return await self._request(
            "GET", f"{self._base}/dapr/config", b"", self._headers([("Dapr-App-Id", self._app_id)])
        )

    async def invoke(
        self, actor_type: str, actor_id: str, method: str, body: bytes, headers: list[tuple[str, str]]
    ) -> AppResponse:
        url = self._url(actor_type, actor_id, "/method/" + quote(method, safe="/"))
        return await self._request("PUT", url, body, self._headers(forwardable_headers(headers)))

    async def remind(self, actor_type: str, actor_id: str, name: str, data: any_pb2.Any | None,
                     trigger_id: str | None = None) -> AppResponse:
        url = self._url(actor_type, actor_id, "/method/remind/" + quote(name, safe=""))
        headers = self._headers()
        if trigger_id:
            headers = [*headers, (TRIGGER_ID_HEADER, trigger_id)]
        return await self._request("PUT", url, reminders.fire_body(data), headers)

    async def timer(self, spec: TimerSpec) -> AppResponse:
        url = self._url(spec.actor_type, spec.actor_id, "/method/timer/" + quote(spec.name, safe=""))
        return await self._request("PUT", url, fire_body(spec), self._headers())

    async def deactivate(self, actor_type: str, actor_id: str) -> AppResponse:
        return await self._request("DELETE", self._url(actor_type, actor_id), b"", self._headers())

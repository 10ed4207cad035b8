"""The sidecar-to-sidecar hop: an ``InvokeCall`` to the target app's sidecar, its ``InvokeResult`` back.

It rides on the target sidecar's HTTP port, ``POST /daprjobs.internal/invoke`` (so ``DAPR_API_TOKEN``, when set,
is checked there like on every route). The hop always answers 200 when the target sidecar handled the call;
what happened is in ``daprjobs-invoke-*`` headers, the app's own headers travel as ``daprjobs-h-<name>``
(``daprjobs-t-<name>`` for gRPC trailers) and the body is the app's body. 421 means the address now belongs to
another app (a restarted sidecar), so the caller tries another instance.
"""

from __future__ import annotations

import base64
import logging
import urllib.parse
from collections.abc import Iterable

import aiohttp
import grpc
from aiohttp import web
from multidict import CIMultiDict

from daprjobs.sidecar.errors import go_rpc_error_text
from daprjobs.sidecar.invoke.headers import API_TOKEN_HEADER, Headers
from daprjobs.sidecar.invoke.model import GrpcAnswer, InvokeCall, InvokeFailure, InvokeResult

log = logging.getLogger(__name__)

HOP_PATH = "/daprjobs.internal/invoke"
_P = "daprjobs-invoke-"
_HEADER = "daprjobs-h-"
_TRAILER = "daprjobs-t-"
MISDIRECTED = 421


def _q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _uq(text: str | None) -> str:
    return urllib.parse.unquote(text or "")


def _prefixed(prefix: str, headers: Iterable[tuple[str, str]]) -> Headers:
    return [(prefix + key, value) for key, value in headers]


def _unprefixed(prefix: str, headers: Iterable[tuple[str, str]]) -> Headers:
    return [(key[len(prefix):], value) for key, value in headers if key.lower().startswith(prefix)]


def encode_call(call: InvokeCall, app_id: str, namespace: str, timeout_s: float | None) -> Headers:
    headers: Headers = [
        (_P + "app", _q(app_id)), (_P + "namespace", _q(namespace)), (_P + "method", _q(call.method)),
        (_P + "verb", call.verb or ""), (_P + "query", _q(call.query)), (_P + "type-url", _q(call.data_type_url)),
        (_P + "content-type", _q(call.content_type)),
    ]
    if timeout_s is not None:
        headers.append((_P + "timeout", f"{timeout_s:.3f}"))
    return headers + _prefixed(_HEADER, call.headers)


def decode_call(request: web.Request, body: bytes) -> tuple[str, str, InvokeCall, float | None]:
    h = request.headers
    call = InvokeCall(
        method=_uq(h.get(_P + "method")), verb=h.get(_P + "verb") or None, query=_uq(h.get(_P + "query")),
        headers=_unprefixed(_HEADER, request.headers.items()), body=body,
        content_type=_uq(h.get(_P + "content-type")), data_type_url=_uq(h.get(_P + "type-url")),
    )
    timeout = h.get(_P + "timeout")
    return _uq(h.get(_P + "app")), _uq(h.get(_P + "namespace")), call, float(timeout) if timeout else None


def encode_result(result: InvokeResult) -> web.Response:
    headers: Headers = [(_P + "status", str(result.status)), (_P + "content-type", _q(result.content_type)),
                        (_P + "type-url", _q(result.data_type_url))]
    headers += _prefixed(_HEADER, result.headers)
    if result.grpc is not None:
        answer = result.grpc
        headers += [(_P + "grpc-code", str(answer.code.value[0])), (_P + "grpc-message", _q(answer.message)),
                    (_P + "grpc-details", base64.b64encode(answer.status_details).decode())]
        headers += _prefixed(_TRAILER, answer.trailers)
    return web.Response(status=200, body=result.body, headers=CIMultiDict(headers))


def encode_failure(failure: InvokeFailure) -> web.Response:
    return web.Response(status=200, headers={_P + "failure": _q(failure.detail),
                                             _P + "failure-code": str(failure.code.value[0])})


def _code(number: str | None) -> grpc.StatusCode:
    value = int(number or 2)
    return next((c for c in grpc.StatusCode if c.value[0] == value), grpc.StatusCode.UNKNOWN)


def decode_result(headers: Iterable[tuple[str, str]], body: bytes) -> InvokeResult:
    h: CIMultiDict[str] = CIMultiDict(list(headers))
    if (_P + "failure") in h:
        raise InvokeFailure(_uq(h.get(_P + "failure")), _code(h.get(_P + "failure-code")))
    answer = None
    if (_P + "grpc-code") in h:
        answer = GrpcAnswer(_code(h.get(_P + "grpc-code")), _uq(h.get(_P + "grpc-message")),
                            base64.b64decode(h.get(_P + "grpc-details", "")), _unprefixed(_TRAILER, h.items()))
    return InvokeResult(status=int(h.get(_P + "status", "500")), headers=_unprefixed(_HEADER, h.items()), body=body,
                        content_type=_uq(h.get(_P + "content-type")), data_type_url=_uq(h.get(_P + "type-url")),
                        grpc=answer)


class HopClient:
    """Sends calls to other sidecars over the shared HTTP session."""

    def __init__(self, session: aiohttp.ClientSession, api_token: str | None) -> None:
        self._session = session
        self._token = api_token

    async def send(self, address: str, app_id: str, namespace: str, call: InvokeCall,
                   timeout_s: float | None) -> InvokeResult:
        headers = encode_call(call, app_id, namespace, timeout_s)
        if self._token:
            headers.append((API_TOKEN_HEADER, self._token))
        timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=5)
        try:
            async with self._session.post(
                f"http://{address}{HOP_PATH}", data=call.body, headers=CIMultiDict(headers), timeout=timeout,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"), auto_decompress=False,
            ) as resp:
                body = await resp.read()
                if resp.status == MISDIRECTED:
                    raise InvokeFailure(f"{address} no longer serves app {app_id}", retriable=True)
                if resp.status != 200:
                    detail = body.decode(errors="replace").strip()[:200]
                    raise InvokeFailure(go_rpc_error_text(
                        grpc.StatusCode.UNAVAILABLE, f"target sidecar {address} answered {resp.status}: {detail}"))
                return decode_result(resp.headers.items(), body)
        except aiohttp.ClientConnectorError as exc:
            # Nothing reached the target sidecar: another instance may take the call.
            raise InvokeFailure(go_rpc_error_text(grpc.StatusCode.UNAVAILABLE, f"connection error: {exc}"),
                                grpc.StatusCode.UNAVAILABLE, retriable=True) from None
        except TimeoutError:
            raise InvokeFailure("context deadline exceeded", grpc.StatusCode.DEADLINE_EXCEEDED) from None
        except aiohttp.ClientError as exc:
            # The call may have reached the app: not retried elsewhere (it might run twice).
            raise InvokeFailure(go_rpc_error_text(grpc.StatusCode.UNAVAILABLE, f"{type(exc).__name__}: {exc}"),
                                grpc.StatusCode.UNAVAILABLE, address_failed=True) from None

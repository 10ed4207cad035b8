"""HTTP ``/v1.0/invoke`` through two real sidecars to real apps: verbs, query, headers, bodies, statuses, errors."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from daprjobs.sidecar.server import Sidecar

from .apps import EchoHttpApp, GrpcInvokeApp
from .conftest import SidecarFactory, unique_id, wait_resolvable

VERBS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


async def call(sidecar: Sidecar, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, f"http://127.0.0.1:{sidecar.http_port}{path}", **kwargs) as resp:
            return resp.status, dict(resp.headers), await resp.read()


@pytest.fixture
async def pair(make_sidecar: SidecarFactory, echo_app: EchoHttpApp) -> tuple[Sidecar, Sidecar, str]:
    """(caller sidecar, target sidecar, target app id), the target resolvable from the caller."""
    target_id = unique_id("target")
    target = await make_sidecar(target_id, app_port=echo_app.port)
    caller = await make_sidecar(unique_id("caller"))
    await wait_resolvable(caller, target_id)
    return caller, target, target_id


@pytest.mark.parametrize("verb", VERBS)
async def test_every_verb_reaches_the_app_with_query_body_and_headers(
        pair: tuple[Sidecar, Sidecar, str], echo_app: EchoHttpApp, verb: str) -> None:
    caller, _, target_id = pair
    body = b"" if verb == "GET" else b'{"n": 1}'
    status, headers, raw = await call(
        caller, verb, f"/v1.0/invoke/{target_id}/method/orders/42?x=1&y=a%20b&x=2", data=body,
        headers={"Content-Type": "application/json", "X-Custom": "v1", "Connection": "keep-alive, X-Hop",
                 "X-Hop": "dropped", "Destination-App-Id": "dropped", "dapr-api-token": "not-forwarded"},
    )
    assert status == 200, raw
    assert headers["X-Echo"] == "1"
    seen = json.loads(raw)
    assert seen["method"] == verb
    assert seen["path"] == "/orders/42"
    assert seen["query"] == "x=1&y=a%20b&x=2"
    assert seen["body"] == body.decode()
    got = {k.lower(): v for k, v in seen["headers"]}
    assert got["x-custom"] == "v1"
    assert got["content-type"] == "application/json"
    assert got["dapr-callee-app-id"] == target_id
    assert got["dapr-caller-app-id"] == caller.config.app_id
    assert got["dapr-caller-namespace"] == "default"
    assert got["x-forwarded-host"].startswith("127.0.0.1:")
    assert "x-forwarded-for" in got and "forwarded" in got
    for dropped in ("x-hop", "destination-app-id", "dapr-api-token"):
        assert dropped not in got


@pytest.mark.parametrize("code", [201, 202, 204, 400, 401, 404, 409, 500, 502, 503])
async def test_status_body_and_headers_come_back_verbatim(pair: tuple[Sidecar, Sidecar, str], code: int) -> None:
    caller, _, target_id = pair
    status, headers, raw = await call(caller, "POST", f"/v1.0/invoke/{target_id}/method/status/{code}")
    assert status == code
    if code != 204:
        assert raw == f"status {code}".encode()
        assert headers["Content-Type"].startswith("text/plain")
    assert headers["X-App"] == "yes"
    assert "errorCode" not in raw.decode()


async def test_app_id_with_namespace_and_header_forms(pair: tuple[Sidecar, Sidecar, str],
                                                      echo_app: EchoHttpApp) -> None:
    caller, _, target_id = pair
    status, _, raw = await call(caller, "GET", f"/v1.0/invoke/{target_id}.default/method/a")
    assert status == 200 and json.loads(raw)["path"] == "/a"
    # dapr-app-id header: any path no route serves is the method; the header itself is not forwarded.
    status, _, raw = await call(caller, "PUT", "/shop/cart?item=3", headers={"dapr-app-id": target_id}, data=b"x")
    assert status == 200, raw
    seen = json.loads(raw)
    assert (seen["method"], seen["path"], seen["query"], seen["body"]) == ("PUT", "/shop/cart", "item=3", "x")
    assert "dapr-app-id" not in {k.lower() for k, _ in seen["headers"]}
    # Basic auth with user dapr-app-id.
    auth = "Basic " + base64.b64encode(f"dapr-app-id:{target_id}".encode()).decode()
    status, _, raw = await call(caller, "GET", "/basic/path", headers={"Authorization": auth})
    assert status == 200 and json.loads(raw)["path"] == "/basic/path"
    # A namespace with no such app is another app entirely.
    status, _, raw = await call(caller, "GET", f"/v1.0/invoke/{target_id}.other/method/a")
    assert status == 500 and json.loads(raw)["errorCode"] == "ERR_DIRECT_INVOKE"


async def test_self_invocation_goes_straight_to_the_app(make_sidecar: SidecarFactory, echo_app: EchoHttpApp) -> None:
    app_id = unique_id("self")
    sidecar = await make_sidecar(app_id, app_port=echo_app.port)
    status, _, raw = await call(sidecar, "POST", f"/v1.0/invoke/{app_id}/method/me", data=b"hi")
    assert status == 200
    got = {k.lower(): v for k, v in json.loads(raw)["headers"]}
    assert got["dapr-caller-app-id"] == app_id and got["dapr-callee-app-id"] == app_id
    assert "x-forwarded-for" not in got


async def test_errors_have_daprd_codes(pair: tuple[Sidecar, Sidecar, str], echo_app: EchoHttpApp) -> None:
    caller, _, target_id = pair
    status, _, raw = await call(caller, "POST", "/v1.0/invoke/app")
    assert status == 404
    assert json.loads(raw) == {"errorCode": "ERR_DIRECT_INVOKE", "message":
                               "failed getting app id either from the URL path or the header dapr-app-id"}
    status, _, raw = await call(caller, "GET", "/v1.0/invoke/nosuchapp/method/x")
    assert status == 500
    assert json.loads(raw) == {"errorCode": "ERR_DIRECT_INVOKE",
                               "message": "failed to invoke, id: nosuchapp, err: couldn't find service: nosuchapp"}
    status, _, raw = await call(caller, "GET", "/v1.0/invoke/a.b.c/method/x")
    assert status == 500 and "invalid app id a.b.c" in json.loads(raw)["message"]
    status, _, raw = await call(caller, "GET", f"/v1.0/invoke/{target_id}/method/bad%00name")
    assert status == 500 and "invalid method" in json.loads(raw)["message"]
    calls_before = len(echo_app.calls)
    oversized = b"x" * (4 * 1024 * 1024 + 1)
    # A declared length over --max-body-size is refused by the sidecar before any route (ERR_BODY_READ) ...
    status, _, raw = await call(caller, "POST", f"/v1.0/invoke/{target_id}/method/big", data=oversized)
    assert status == 400 and json.loads(raw)["errorCode"] == "ERR_BODY_READ"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"x" * (1024 * 1024)

    # ... a chunked body that grows past it fails the invocation, as daprd's limited reader does.
    status, _, raw = await call(caller, "POST", f"/v1.0/invoke/{target_id}/method/big", data=chunks())
    assert status == 500
    assert json.loads(raw)["message"] == f"failed to invoke, id: {target_id}, err: stream too large"
    assert len(echo_app.calls) == calls_before


async def test_target_app_refusing_connections_is_500(make_sidecar: SidecarFactory) -> None:
    import socket

    target_id = unique_id("down")
    # A bound socket that never listens: connections to it are refused, and no other server of this test (a
    # sidecar picking a free port) can take the port meanwhile.
    with socket.socket() as refusing:
        refusing.bind(("127.0.0.1", 0))
        await make_sidecar(target_id, app_port=refusing.getsockname()[1])
        caller = await make_sidecar(unique_id("caller"))
        await wait_resolvable(caller, target_id)
        status, _, raw = await call(caller, "GET", f"/v1.0/invoke/{target_id}/method/x")
    assert status == 500
    message = json.loads(raw)["message"]
    assert message.startswith(f"failed to invoke, id: {target_id}, err: rpc error: code = Internal desc = "
                              "error invoking app channel:")


async def test_grpc_app_answers_http_callers(make_sidecar: SidecarFactory, grpc_app: GrpcInvokeApp) -> None:
    target_id = unique_id("grpcapp")
    await make_sidecar(target_id, app_port=grpc_app.port, app_protocol="grpc")
    caller = await make_sidecar(unique_id("caller"))
    await wait_resolvable(caller, target_id)
    status, headers, raw = await call(caller, "POST", f"/v1.0/invoke/{target_id}/method/echo", data=b"hello",
                                      headers={"Content-Type": "text/plain", "X-Custom": "1"})
    assert status == 200, raw
    assert headers["Content-Type"] == "application/json"
    seen = json.loads(raw)
    assert seen["data"] == "hello" and seen["content_type"] == "text/plain"
    assert {"x-custom", "dapr-caller-app-id", "dapr-callee-app-id"} <= set(seen["metadata"])
    # A method the app does not have: UNIMPLEMENTED → 501 with the Status as JSON.
    status, _, raw = await call(caller, "POST", f"/v1.0/invoke/{target_id}/method/nosuch")
    assert status == 501
    assert json.loads(raw)["code"] == 12

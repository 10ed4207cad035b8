"""API tokens on invocation: DAPR_API_TOKEN guards the caller's API and the sidecar-to-sidecar hop; APP_API_TOKEN
reaches the target app as ``dapr-api-token``; the caller's own token is never forwarded."""

from __future__ import annotations

import json

from .apps import EchoHttpApp
from .conftest import SidecarFactory, unique_id, wait_resolvable
from .test_http_invoke import call


async def test_tokens_on_both_hops(make_sidecar: SidecarFactory, echo_app: EchoHttpApp) -> None:
    target_id = unique_id("secured")
    await make_sidecar(target_id, app_port=echo_app.port, api_token="cluster-token", app_api_token="app-token")
    caller = await make_sidecar(unique_id("caller"), api_token="cluster-token")
    await wait_resolvable(caller, target_id)
    path = f"/v1.0/invoke/{target_id}/method/secret"
    status, _, raw = await call(caller, "GET", path)
    assert (status, raw) == (401, b"invalid api token\n")
    status, _, raw = await call(caller, "GET", path, headers={"dapr-api-token": "cluster-token"})
    assert status == 200, raw
    got = {k.lower(): v for k, v in json.loads(raw)["headers"]}
    assert got["dapr-api-token"] == "app-token"


async def test_hop_refused_by_a_sidecar_with_another_token(make_sidecar: SidecarFactory,
                                                           echo_app: EchoHttpApp) -> None:
    target_id = unique_id("other-token")
    await make_sidecar(target_id, app_port=echo_app.port, api_token="their-token")
    caller = await make_sidecar(unique_id("caller"), api_token="our-token")
    await wait_resolvable(caller, target_id)
    status, _, raw = await call(caller, "GET", f"/v1.0/invoke/{target_id}/method/x",
                                headers={"dapr-api-token": "our-token"})
    assert status == 500
    body = json.loads(raw)
    assert body["errorCode"] == "ERR_DIRECT_INVOKE" and "answered 401" in body["message"]
    assert echo_app.calls == []

"""The Python SDK's ``invoke_method`` (sync and aio, over HTTP and over gRPC ``InvokeService``) through two sidecars."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import pytest
from dapr.aio.clients import DaprClient as AioDaprClient
from dapr.clients import DaprClient
from dapr.clients.exceptions import DaprGrpcError, DaprHttpError
from daprjobs.sidecar.server import Sidecar

from tests.support.inprocess import in_own_loop
from tests.support.sdk import point_sdk_at

from .apps import EchoHttpApp, GrpcInvokeApp
from .conftest import SidecarFactory, unique_id, wait_resolvable


def point_sdk(monkeypatch: pytest.MonkeyPatch, sidecar: Sidecar, protocol: str) -> None:
    point_sdk_at(monkeypatch, sidecar.http_port, sidecar.grpc_port, DAPR_API_METHOD_INVOCATION_PROTOCOL=protocol)


@pytest.fixture
async def targets(make_sidecar: SidecarFactory, echo_app: EchoHttpApp,
                  grpc_app: GrpcInvokeApp) -> tuple[Sidecar, str, str]:
    """(caller sidecar, HTTP target app id, gRPC target app id)."""
    http_id, grpc_id = unique_id("httpapp"), unique_id("grpcapp")
    await make_sidecar(http_id, app_port=echo_app.port)
    await make_sidecar(grpc_id, app_port=grpc_app.port, app_protocol="grpc")
    caller = await make_sidecar(unique_id("caller"))
    await wait_resolvable(caller, http_id)
    await wait_resolvable(caller, grpc_id)
    return caller, http_id, grpc_id


@pytest.mark.parametrize("protocol", ["http", "grpc"])
async def test_sync_client_invokes_http_and_grpc_apps(targets: tuple[Sidecar, str, str], protocol: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    caller, http_id, grpc_id = targets
    point_sdk(monkeypatch, caller, protocol)

    def scenario() -> tuple[dict[str, Any], str, int | None, str]:
        with DaprClient(f"127.0.0.1:{caller.grpc_port}") as client:
            echoed = client.invoke_method(http_id, "orders", data='{"a":1}', http_verb="POST",
                                          http_querystring=(("page", "2"),), metadata=(("x-trace-me", "yes"),))
            plain = client.invoke_method(grpc_id, "plain", data="ping", http_verb="POST")
            with pytest.raises((DaprHttpError, DaprGrpcError, grpc.RpcError)) as failed:
                client.invoke_method(http_id, "status/409", data="", http_verb="POST")
            error = failed.value
            code = error.status_code if isinstance(error, DaprHttpError) else None
            return json.loads(echoed.data), plain.text(), code, str(error)

    echoed, plain, code, error = await asyncio.to_thread(scenario)
    assert (echoed["method"], echoed["path"], echoed["query"], echoed["body"]) == ("POST", "/orders", "page=2",
                                                                                   '{"a":1}')
    assert ["x-trace-me", "yes"] in [[k.lower(), v] for k, v in echoed["headers"]]
    assert plain == "grpc-echo:ping"
    if protocol == "http":
        assert code == 409
    else:
        # daprd's CodeFromHTTPStatus: 409 is AlreadyExists with the status text as message.
        assert "ALREADY_EXISTS" in error and "Conflict" in error


@pytest.mark.parametrize("protocol", ["http", "grpc"])
async def test_aio_client_invokes(targets: tuple[Sidecar, str, str], protocol: str,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    caller, http_id, grpc_id = targets
    point_sdk(monkeypatch, caller, protocol)

    async def scenario() -> tuple[str, str]:
        async with AioDaprClient(f"127.0.0.1:{caller.grpc_port}") as client:
            echoed = await client.invoke_method(http_id, "aio/path", data="body", http_verb="PUT")
            plain = await client.invoke_method(grpc_id, "plain", data="aio", http_verb="POST")
            return json.loads(echoed.data)["path"], plain.text()

    path, plain = await in_own_loop(scenario)
    assert path == "/aio/path"
    assert plain == "grpc-echo:aio"


async def test_grpc_invoke_without_verb_fails_for_http_apps_only(targets: tuple[Sidecar, str, str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    caller, http_id, grpc_id = targets
    point_sdk(monkeypatch, caller, "grpc")

    def scenario() -> tuple[str, str]:
        with DaprClient(f"127.0.0.1:{caller.grpc_port}") as client:
            plain = client.invoke_method(grpc_id, "plain", data="no-verb").text()
            with pytest.raises((DaprGrpcError, grpc.RpcError)) as failed:
                client.invoke_method(http_id, "x", data="no-verb")
            return plain, str(failed.value)

    plain, error = await asyncio.to_thread(scenario)
    assert plain == "grpc-echo:no-verb"
    assert f"failed to invoke, id: {http_id}" in error and "missing HTTP extension field" in error

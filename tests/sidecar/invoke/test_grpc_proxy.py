"""gRPC proxying: a call to a non-Dapr service with ``dapr-app-id`` metadata reaches that app's gRPC server through
both sidecars (here the ``dapr.ext.grpc.App``'s own ``AppCallback`` and health services, called by a plain stub)."""

from __future__ import annotations

import json

import grpc
import pytest
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import appcallback_pb2_grpc
from google.protobuf import any_pb2, empty_pb2

from .apps import GrpcInvokeApp
from .conftest import SidecarFactory, unique_id, wait_resolvable


async def test_proxied_calls_reach_the_grpc_app(make_sidecar: SidecarFactory, grpc_app: GrpcInvokeApp) -> None:
    target_id = unique_id("proxied")
    target = await make_sidecar(target_id, app_port=grpc_app.port, app_protocol="grpc")
    caller = await make_sidecar(unique_id("caller"))
    await wait_resolvable(caller, target_id)
    request = common_pb2.InvokeRequest(method="echo", data=any_pb2.Any(value=b"via proxy"), content_type="text/plain")
    for sidecar in (caller, target):  # remote (two hops) and local (own app id)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{sidecar.grpc_port}") as channel:
            stub = appcallback_pb2_grpc.AppCallbackStub(channel)
            response = await stub.OnInvoke(request, metadata=(("dapr-app-id", target_id), ("x-custom", "1")))
            seen = json.loads(response.data.value)
            assert seen["data"] == "via proxy"
            assert "x-custom" in seen["metadata"] and "dapr-app-id" not in seen["metadata"]
            # The app's status comes back as it is (this app has no health callback: its own UNIMPLEMENTED text).
            health = appcallback_pb2_grpc.AppCallbackHealthCheckStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as unimplemented:
                await health.HealthCheck(empty_pb2.Empty(), metadata=(("dapr-app-id", target_id),))
            assert unimplemented.value.details() == "Method not implemented!"
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await stub.OnInvoke(common_pb2.InvokeRequest(method="nosuch"), metadata=(("dapr-app-id", target_id),))
            assert failed.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_proxy_errors(make_sidecar: SidecarFactory) -> None:
    caller = await make_sidecar(unique_id("caller"))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{caller.grpc_port}") as channel:
        stub = appcallback_pb2_grpc.AppCallbackStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await stub.OnInvoke(common_pb2.InvokeRequest(method="x"), metadata=(("dapr-app-id", "nosuchapp"),))
        assert failed.value.code() == grpc.StatusCode.INTERNAL
        assert failed.value.details() == "failed to proxy request: couldn't find service: nosuchapp"
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await stub.OnInvoke(common_pb2.InvokeRequest(method="x"))
        assert failed.value.code() == grpc.StatusCode.UNIMPLEMENTED

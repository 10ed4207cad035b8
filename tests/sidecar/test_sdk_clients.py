"""The official Python SDK against the sidecar: DaprClient (sync and dapr.aio) and dapr.ext.grpc apps."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import pytest
from dapr.aio.clients import DaprClient as AioDaprClient
from dapr.clients import DaprClient
from dapr.clients.exceptions import DaprGrpcError
from dapr.clients.grpc._jobs import ConstantFailurePolicy, DropFailurePolicy, Job
from dapr.proto.runtime.v1 import appcallback_pb2, appcallback_pb2_grpc
from daprjobs.etcd.embedded import free_port
from google.protobuf import any_pb2, wrappers_pb2

from tests.support.apps import GrpcJobApp, HttpJobApp
from tests.support.inprocess import StackFactory, in_own_loop
from tests.support.sdk import point_sdk_at


def raw_json(obj: object) -> any_pb2.Any:
    data = any_pb2.Any()
    data.value = json.dumps(obj).encode()
    return data


@pytest.fixture
def sdk_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    def point_at(stack: Any) -> None:
        point_sdk_at(monkeypatch, stack.sidecar.http_port, stack.sidecar.grpc_port)

    return point_at


async def test_sync_client_schedule_get_delete(make_stack: StackFactory, sdk_env: Any) -> None:
    stack = await make_stack("sdk-sync")
    sdk_env(stack)

    def scenario() -> dict[str, Any]:
        out: dict[str, Any] = {}
        with DaprClient() as client:
            client.schedule_job(Job(name="backup", schedule="@every 1h", repeats=5, due_time="1000s", ttl="2h",
                                    data=raw_json({"db": "orders"})))
            out["got"] = client.get_job("backup")
            client.schedule_job(Job(name="dropper", due_time="1h", failure_policy=DropFailurePolicy()))
            out["dropper"] = client.get_job("dropper")
            client.schedule_job(Job(name="retrier", due_time="1h",
                                    failure_policy=ConstantFailurePolicy(max_retries=4, interval_seconds=7)))
            out["retrier"] = client.get_job("retrier")
            with pytest.raises(DaprGrpcError) as exists:
                client.schedule_job(Job(name="backup", schedule="@every 1h"))
            out["exists"] = exists.value
            client.schedule_job(Job(name="backup", schedule="@every 2h"), overwrite=True)
            out["overwritten"] = client.get_job("backup")
            out["metadata"] = client.get_metadata()
            client.delete_job("backup")
            client.delete_job("backup")  # deleting a missing job is a success
            with pytest.raises(DaprGrpcError) as missing:
                client.get_job("backup")
            out["missing"] = missing.value
        return out

    out = await asyncio.to_thread(scenario)
    got = out["got"]
    assert (got.name, got.schedule, got.repeats, got.due_time, got.ttl) == ("backup", "@every 1h", 5, "1000s", "2h")
    assert json.loads(got.data.value) == {"db": "orders"} and got.data.type_url == ""
    # No policy given: the scheduler's default constant 1 s x 3 shows up.
    assert isinstance(got.failure_policy, ConstantFailurePolicy)
    assert (got.failure_policy.interval_seconds, got.failure_policy.max_retries) == (1, 3)
    assert isinstance(out["dropper"].failure_policy, DropFailurePolicy)
    retrier = out["retrier"].failure_policy
    assert isinstance(retrier, ConstantFailurePolicy) and (retrier.interval_seconds, retrier.max_retries) == (7, 4)
    assert out["exists"].code() == grpc.StatusCode.ALREADY_EXISTS
    assert out["exists"].error_code() == "DAPR_SCHEDULER_SCHEDULE_JOB"
    assert "job already exists" in out["exists"].details()
    assert out["overwritten"].schedule == "@every 2h"
    assert out["metadata"].application_id == "sdk-sync"
    missing = out["missing"]
    assert missing.code() == grpc.StatusCode.INTERNAL
    assert missing.details().startswith("failed to get job due to: rpc error: code = NotFound desc = job not found")
    assert missing.error_code() == "DAPR_SCHEDULER_GET_JOB"
    assert missing.status_details().error_info["domain"] == "dapr.io"
    assert missing.status_details().error_info["metadata"] == {"appID": "sdk-sync", "namespace": "default"}


async def test_aio_client_schedule_get_delete(make_stack: StackFactory, sdk_env: Any) -> None:
    stack = await make_stack("sdk-aio")
    sdk_env(stack)

    async def scenario() -> tuple[Job, DaprGrpcError]:
        async with AioDaprClient() as client:
            await client.schedule_job(Job(name="report", schedule="0 0 6 * * *", data=raw_json({"to": "x@y"})))
            job = await client.get_job("report")
            await client.delete_job("report")
            with pytest.raises(DaprGrpcError) as missing:
                await client.get_job("report")
        return job, missing.value

    job, missing = await in_own_loop(scenario)
    assert (job.name, job.schedule, job.repeats) == ("report", "0 0 6 * * *", None)
    assert json.loads(job.data.value) == {"to": "x@y"}
    assert missing.code() == grpc.StatusCode.INTERNAL
    assert missing.error_code() == "DAPR_SCHEDULER_GET_JOB"


async def test_grpc_app_receives_each_data_shape(make_stack: StackFactory, sdk_env: Any, grpc_app_factory: Any) -> None:
    names = ["raw-json", "packed-string", "no-data", "from-http"]
    app: GrpcJobApp = grpc_app_factory(names)
    stack = await make_stack("grpc-shapes", app_port=app.port, app_protocol="grpc")
    sdk_env(stack)
    packed = any_pb2.Any()
    packed.Pack(wrappers_pb2.StringValue(value="hi"))

    def schedule() -> None:
        with DaprClient() as client:
            client.schedule_job(Job(name="raw-json", due_time="1s", data=raw_json({"a": 1})))
            client.schedule_job(Job(name="packed-string", due_time="1s", data=packed))
            client.schedule_job(Job(name="no-data", due_time="1s"))

    await asyncio.to_thread(schedule)
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.post(f"{stack.http_url}/v1.0/jobs/from-http", json={"dueTime": "1s", "data": "hello"}) as r:
            assert r.status == 204
    events = {}
    for _ in names:
        event = await app.next_event()
        events[event.name] = event.data
    assert json.loads(events["raw-json"]) == {"a": 1}
    assert events["packed-string"] == b"\n\x02hi"  # the Any's bytes, not unpacked (as daprd)
    assert events["no-data"] == b""
    # An HTTP-scheduled job reaches a gRPC app as the proto-encoded google.protobuf.Value (as daprd).
    from google.protobuf import struct_pb2

    assert struct_pb2.Value.FromString(events["from-http"]).string_value == "hello"


class AlphaOnlyApp(appcallback_pb2_grpc.AppCallbackAlphaServicer):
    """Like a Node SDK gRPC server: only AppCallbackAlpha/OnJobEventAlpha1, always OK."""

    def __init__(self) -> None:
        self.requests: asyncio.Queue[appcallback_pb2.JobEventRequest] = asyncio.Queue()
        self.metadata: list[dict[str, str]] = []

    async def OnJobEventAlpha1(self, request: appcallback_pb2.JobEventRequest,
                               context: grpc.aio.ServicerContext[Any, Any]) -> appcallback_pb2.JobEventResponse:
        self.metadata.append({k: v for k, v in context.invocation_metadata() or ()})
        await self.requests.put(request)
        return appcallback_pb2.JobEventResponse()


async def test_falls_back_to_alpha1_callback_with_daprd_request(
    make_stack: StackFactory, sdk_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    servicer = AlphaOnlyApp()
    server = grpc.aio.server()
    appcallback_pb2_grpc.add_AppCallbackAlphaServicer_to_server(servicer, server)
    port = server.add_insecure_port(f"127.0.0.1:{free_port()}")
    await server.start()
    try:
        stack = await make_stack("alpha-only", app_port=port, app_protocol="grpc", app_api_token="app-secret")
        sdk_env(stack)
        packed = any_pb2.Any()
        packed.Pack(wrappers_pb2.StringValue(value="x"))

        async def schedule() -> None:
            async with AioDaprClient() as client:
                await client.schedule_job(Job(name="node-style", due_time="1s", data=packed))

        await in_own_loop(schedule)
        request = await asyncio.wait_for(servicer.requests.get(), 30)
    finally:
        await server.stop(None)
    assert request.name == "node-style" and request.method == "job/node-style"
    assert request.content_type == "type.googleapis.com/google.protobuf.StringValue"
    assert request.data == packed
    assert request.http_extension.verb == request.http_extension.POST
    assert servicer.metadata[0].get("dapr-api-token") == "app-secret"


async def test_http_app_gets_sdk_raw_json_as_body(make_stack: StackFactory, sdk_env: Any,
                                                  http_app: HttpJobApp) -> None:
    stack = await make_stack("sdk-to-http", app_port=http_app.port)
    sdk_env(stack)
    packed = any_pb2.Any()
    packed.Pack(wrappers_pb2.StringValue(value="hi"))

    async def schedule() -> None:
        async with AioDaprClient() as client:
            await client.schedule_job(Job(name="raw", due_time="1s", data=raw_json({"k": [1, 2]})))
            await client.schedule_job(Job(name="packed", due_time="1s", data=packed))
            await client.schedule_job(Job(name="empty", due_time="1s"))

    await in_own_loop(schedule)
    [raw] = await http_app.wait_for("raw")
    [packed_trigger] = await http_app.wait_for("packed")
    [empty] = await http_app.wait_for("empty")
    assert json.loads(raw.body) == {"k": [1, 2]}
    assert raw.headers["Content-Type"] == "application/json" and raw.path == "/job/raw"
    # daprd sends bytes.TrimSpace(Any.value): the protobuf tag byte 0x0a is a newline, so it goes too.
    assert packed_trigger.body == b"\x02hi"
    assert empty.body == b"" and empty.headers.get("Content-Length") == "0"

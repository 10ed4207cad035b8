"""The HTTP Jobs API (wire-compat §B): routes, bodies, every error case, health, metadata, body limit."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.support.apps import HttpJobApp
from tests.support.inprocess import InProcessStack, StackFactory
from tests.support.waiting import eventually

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


async def call(method: str, url: str, body: Any = None, raw: bytes | None = None,
               headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    async with aiohttp.ClientSession() as session:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        async with session.request(method, url, data=data, headers=headers or {}) as resp:
            return resp.status, await resp.read(), dict(resp.headers)


def kit_error(body: bytes, code: str, app_id: str) -> dict[str, Any]:
    parsed = json.loads(body)
    assert parsed["errorCode"] == code, parsed
    [detail] = parsed["details"]
    assert detail["@type"] == ERROR_INFO and detail["domain"] == "dapr.io" and detail["reason"] == code
    assert detail["metadata"]["appID"] == app_id
    return dict(parsed)


@pytest.fixture
async def stack(make_stack: StackFactory) -> InProcessStack:
    return await make_stack("http-api", max_body_size=64 * 1024)


@pytest.mark.parametrize("version", ["v1.0", "v1.0-alpha1"])
async def test_post_get_delete(stack: InProcessStack, version: str) -> None:
    url = f"{stack.http_url}/{version}/jobs/nightly"
    body = {"schedule": "@every 1m", "repeats": 123, "due_time": "1000s", "ttl": "123s", "data": "hello world",
            "failure_policy": {"constant": {"interval": "3s", "max_retries": 5}}}
    status, text, _ = await call("POST", url, body)
    assert (status, text) == (204, b"")
    status, text, headers = await call("GET", url)
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert json.loads(text) == {
        "name": "nightly", "schedule": "@every 1m", "repeats": 123, "dueTime": "1000s", "ttl": "123s",
        "data": {"@type": "type.googleapis.com/google.protobuf.Value", "value": "hello world"},
        "failurePolicy": {"constant": {"interval": "3s", "maxRetries": 5}},
    }
    assert (await call("DELETE", url))[:2] == (204, b"")
    assert (await call("DELETE", url))[:2] == (204, b"")  # missing job: still 204
    status, text, _ = await call("GET", url)
    assert status == 500
    err = kit_error(text, "DAPR_SCHEDULER_GET_JOB", "http-api")
    assert err["message"].startswith("failed to get job due to: rpc error: code = NotFound")


async def test_default_failure_policy_and_no_data(stack: InProcessStack) -> None:
    url = f"{stack.http_url}/v1.0/jobs/plain"
    assert (await call("POST", url, {"dueTime": "1h"}))[0] == 204
    _, text, _ = await call("GET", url)
    got = json.loads(text)
    assert "data" not in got
    assert got["failurePolicy"] == {"constant": {"interval": "1s", "maxRetries": 3}}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "DAPR_SCHEDULER_SCHEDULE_EMPTY"),
        (None, 400, "DAPR_SCHEDULER_SCHEDULE_EMPTY"),
        ({"name": "other", "schedule": "@every 1s"}, 400, "DAPR_SCHEDULER_JOB_NAME"),
        ({"schedule": "not a schedule"}, 500, "DAPR_SCHEDULER_SCHEDULE_JOB"),
        ({"schedule": "* * * * *"}, 500, "DAPR_SCHEDULER_SCHEDULE_JOB"),
        ({"dueTime": "soon"}, 500, "DAPR_SCHEDULER_SCHEDULE_JOB"),
        ({"dueTime": "1s", "repeats": 3}, 500, "DAPR_SCHEDULER_SCHEDULE_JOB"),
        ({"dueTime": "1s", "ttl": "1h"}, 500, "DAPR_SCHEDULER_SCHEDULE_JOB"),
        ({"schedule": "CRON_TZ=Mars/Olympus 0 0 * * * *"}, 500, "DAPR_SCHEDULER_SCHEDULE_JOB"),
    ],
)
async def test_schedule_errors(stack: InProcessStack, body: Any, status: int, code: str) -> None:
    got_status, text, headers = await call("POST", f"{stack.http_url}/v1.0/jobs/bad", body)
    assert got_status == status, text
    assert headers["Content-Type"].startswith("application/json")
    err = kit_error(text, code, "http-api")
    if code == "DAPR_SCHEDULER_SCHEDULE_JOB":
        assert err["message"].startswith("failed to schedule job due to: rpc error: code = Unknown desc = ")
    # nothing was stored
    assert (await call("GET", f"{stack.http_url}/v1.0/jobs/bad"))[0] == 500


async def test_blank_name_is_name_empty(stack: InProcessStack) -> None:
    status, text, _ = await call("POST", f"{stack.http_url}/v1.0/jobs/%20%20", {"schedule": "@every 1s"})
    assert status == 400
    assert kit_error(text, "DAPR_SCHEDULER_JOB_NAME_EMPTY", "http-api")["message"] == "Name is empty"


async def test_conflict_is_409_and_overwrite_replaces(stack: InProcessStack) -> None:
    url = f"{stack.http_url}/v1.0/jobs/dup"
    assert (await call("POST", url, {"schedule": "@every 1m"}))[0] == 204
    status, text, _ = await call("POST", url, {"schedule": "@every 2m"})
    assert status == 409
    err = kit_error(text, "DAPR_SCHEDULER_SCHEDULE_JOB", "http-api")
    assert "code = AlreadyExists desc = job already exists" in err["message"]
    assert (await call("POST", url, {"schedule": "@every 2m", "overwrite": True}))[0] == 204
    assert json.loads((await call("GET", url))[1])["schedule"] == "@every 2m"


@pytest.mark.parametrize("raw", [b"[{}]", b'{"schedule":"@every 1s","repeats":-1}', b"{oops"])
async def test_malformed_body_is_a_legacy_400(stack: InProcessStack, raw: bytes) -> None:
    status, text, _ = await call("POST", f"{stack.http_url}/v1.0/jobs/m", raw=raw)
    assert status == 400
    parsed = json.loads(text)
    assert parsed["errorCode"] == "ERR_MALFORMED_REQUEST" and "details" not in parsed
    assert parsed["message"].startswith("failed deserializing HTTP body: ")


async def test_body_over_max_body_size_is_refused(stack: InProcessStack) -> None:
    big = {"schedule": "@every 1m", "data": "x" * (70 * 1024)}
    status, text, _ = await call("POST", f"{stack.http_url}/v1.0/jobs/big", big)
    assert status == 400
    assert json.loads(text) == {"errorCode": "ERR_BODY_READ",
                                "message": "failed to read request body: stream too large"}
    assert (await call("GET", f"{stack.http_url}/v1.0/jobs/big"))[0] == 500  # not stored
    small = {"schedule": "@every 1m", "data": "x" * (60 * 1024)}
    assert (await call("POST", f"{stack.http_url}/v1.0/jobs/big", small))[0] == 204


async def test_get_of_a_raw_sdk_job_cannot_render(stack: InProcessStack) -> None:
    """A Python-SDK job with raw JSON bytes and no type URL has no JSON form: 500 ERR_INTERNAL, as daprd."""
    import grpc
    from dapr.proto.runtime.v1 import dapr_pb2_grpc, jobs_pb2
    from google.protobuf import any_pb2

    async with grpc.aio.insecure_channel(stack.grpc_address) as channel:
        job = jobs_pb2.Job(name="rawjob", due_time="1h", data=any_pb2.Any(value=b'{"a":1}'))
        await dapr_pb2_grpc.DaprStub(channel).ScheduleJob(jobs_pb2.ScheduleJobRequest(job=job))
    status, text, _ = await call("GET", f"{stack.http_url}/v1.0/jobs/rawjob")
    assert status == 500
    parsed = json.loads(text)
    assert parsed["errorCode"] == "ERR_INTERNAL"
    assert parsed["message"].startswith("failed to encode response as JSON: ")


@pytest.mark.parametrize(
    ("data", "expected"),
    [("hello world", b'"hello world"'), (123, b"123"), (1.5, b"1.5"), ({"b": 1, "a": [True, None]},
                                                                          b'{"a":[true,null],"b":1}'),
     ([1, "x"], b'[1,"x"]'), (False, b"false"), (None, b"null")],
)
async def test_http_app_receives_each_json_kind(make_stack: StackFactory, http_app: HttpJobApp,
                                                data: Any, expected: bytes) -> None:
    stack = await make_stack("http-kinds", app_port=http_app.port)
    assert (await call("POST", f"{stack.http_url}/v1.0/jobs/kind", {"dueTime": "0s", "data": data}))[0] == 204
    [trigger] = await http_app.wait_for("kind")
    assert trigger.body == expected
    assert trigger.headers["Content-Type"] == "application/json" and trigger.path == "/job/kind"


async def test_health_and_metadata(stack: InProcessStack) -> None:
    assert (await call("GET", f"{stack.http_url}/v1.0/healthz"))[:2] == (204, b"")
    assert (await call("GET", f"{stack.http_url}/v1.0/healthz/outbound"))[:2] == (204, b"")
    status, text, _ = await call("GET", f"{stack.http_url}/v1.0/healthz?appid=someone-else")
    assert status == 500 and json.loads(text)["errorCode"] == "ERR_HEALTH_APPID_NOT_MATCH"
    assert (await call("PUT", f"{stack.http_url}/v1.0/metadata/team", raw=b"payments"))[0] == 204
    await eventually(lambda: stack.sidecar.scheduler.hosts, what="scheduler hosts known")
    status, text, _ = await call("GET", f"{stack.http_url}/v1.0/metadata")
    assert status == 200
    meta = json.loads(text)
    assert meta["id"] == "http-api" and meta["runtimeVersion"].startswith("daprjobs-")
    assert meta["extended"] == {"team": "payments"}
    assert meta["actorRuntime"]["runtimeStatus"] == "DISABLED"
    assert meta["scheduler"]["connected_addresses"] == [stack.replica.address if stack.replica else ""]


async def test_metadata_over_grpc(stack: InProcessStack) -> None:
    import grpc
    from dapr.proto.runtime.v1 import dapr_pb2_grpc, metadata_pb2

    await eventually(lambda: stack.sidecar.scheduler.hosts, what="scheduler hosts known")
    async with grpc.aio.insecure_channel(stack.grpc_address) as channel:
        resp = await dapr_pb2_grpc.DaprStub(channel).GetMetadata(metadata_pb2.GetMetadataRequest())
    assert resp.id == "http-api" and resp.runtime_version.startswith("daprjobs-")
    assert list(resp.scheduler.connected_addresses) == [stack.replica.address if stack.replica else ""]


async def test_deeply_nested_data_is_400_malformed(stack: InProcessStack) -> None:
    """Issue 13 defect 4: nesting from 50 to 5,000 levels gave a plain-text 500; daprd's 400 JSON now."""
    depth = 1000
    raw = b'{"dueTime":"1h","data":' + b"[" * depth + b"]" * depth + b"}"
    status, text, _ = await call("POST", f"{stack.http_url}/v1.0/jobs/deep", raw=raw)
    assert status == 400
    assert json.loads(text)["errorCode"] == "ERR_MALFORMED_REQUEST"
    assert (await call("GET", f"{stack.http_url}/v1.0/jobs/deep"))[0] == 500  # nothing stored


async def test_declared_oversized_body_is_refused_and_connection_closed(stack: InProcessStack) -> None:
    """Issue 13 defect 5: the 400 came at once but the connection stayed open waiting for the body."""
    import asyncio

    host, port = stack.http_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /v1.0/jobs/liar HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 1073741824\r\n\r\n{")
    await writer.drain()
    # Read to EOF: this returns only because the server closes the connection after its answer.
    answer = await asyncio.wait_for(reader.read(), timeout=20)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert json.loads(body)["errorCode"] == "ERR_BODY_READ"

"""DAPR_API_TOKEN on the Dapr API (401 / UNAUTHENTICATED, health excepted) and APP_API_TOKEN on callbacks."""

from __future__ import annotations

import json

import aiohttp
import grpc
import pytest
from dapr.aio.clients import DaprClient as AioDaprClient
from dapr.clients.grpc._jobs import Job
from dapr.proto.runtime.v1 import dapr_pb2_grpc, jobs_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.support.apps import HttpJobApp
from tests.support.inprocess import StackFactory, in_own_loop

TOKEN = "s3cret-token"


async def status_of(method: str, url: str, headers: dict[str, str] | None = None,
                    body: object = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.request(
        method, url, headers=headers or {}, json=body
    ) as resp:
        return resp.status, await resp.text()


async def test_token_on_http(make_stack: StackFactory) -> None:
    stack = await make_stack("auth-http", api_token=TOKEN)
    url = f"{stack.http_url}/v1.0/jobs/guarded"
    assert await status_of("POST", url, body={"dueTime": "1h"}) == (401, "invalid api token\n")
    assert (await status_of("POST", url, {"dapr-api-token": "wrong"}, {"dueTime": "1h"}))[0] == 401
    assert (await status_of("GET", f"{stack.http_url}/v1.0/metadata"))[0] == 401
    assert (await status_of("POST", url, {"dapr-api-token": TOKEN}, {"dueTime": "1h"}))[0] == 204
    assert (await status_of("GET", url, {"dapr-api-token": TOKEN}))[0] == 200
    # Health checks are open (the SDK polls /healthz/outbound before it sends anything else).
    assert (await status_of("GET", f"{stack.http_url}/v1.0/healthz"))[0] == 204
    assert (await status_of("GET", f"{stack.http_url}/v1.0/healthz/outbound"))[0] == 204


async def test_token_on_grpc(make_stack: StackFactory) -> None:
    stack = await make_stack("auth-grpc", api_token=TOKEN)
    request = jobs_pb2.ScheduleJobRequest(job=jobs_pb2.Job(name="g", due_time="1h"))
    async with grpc.aio.insecure_channel(stack.grpc_address) as channel:
        dapr = dapr_pb2_grpc.DaprStub(channel)
        for metadata, detail in (((), "missing api token in request metadata"),
                                 ((("dapr-api-token", "nope"),), "authentication error: api token mismatch")):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await dapr.ScheduleJob(request, metadata=metadata)
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
            status = rpc_status.from_call(info.value)  # type: ignore[arg-type]
            assert status is not None
            error = error_details_pb2.ErrorInfo()
            assert status.details[0].Unpack(error)
            assert error.metadata["http.error_message"] == detail
        await dapr.ScheduleJob(request, metadata=(("dapr-api-token", TOKEN),))
        got = await dapr.GetJob(jobs_pb2.GetJobRequest(name="g"), metadata=(("dapr-api-token", TOKEN),))
    assert got.job.due_time == "1h"


async def test_sdk_sends_the_token(make_stack: StackFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    stack = await make_stack("auth-sdk", api_token=TOKEN)
    monkeypatch.setenv("DAPR_HTTP_PORT", str(stack.sidecar.http_port))
    monkeypatch.setenv("DAPR_GRPC_PORT", str(stack.sidecar.grpc_port))
    monkeypatch.setenv("DAPR_API_TOKEN", TOKEN)

    async def scenario() -> str | None:
        async with AioDaprClient() as client:
            await client.schedule_job(Job(name="sdk", schedule="@every 1h"))
            return (await client.get_job("sdk")).schedule

    assert await in_own_loop(scenario) == "@every 1h"


async def test_token_off_needs_nothing(make_stack: StackFactory) -> None:
    stack = await make_stack("auth-off")
    assert (await status_of("POST", f"{stack.http_url}/v1.0/jobs/open", body={"dueTime": "1h"}))[0] == 204


async def test_app_token_travels_on_callbacks(make_stack: StackFactory, http_app: HttpJobApp) -> None:
    stack = await make_stack("app-token", app_port=http_app.port, app_api_token="app-side")
    assert (await status_of("POST", f"{stack.http_url}/v1.0/jobs/tok", body={"dueTime": "0s", "data": {"a": 1}}))[0] \
        == 204
    [trigger] = await http_app.wait_for("tok")
    assert trigger.headers.get("dapr-api-token") == "app-side"
    assert json.loads(trigger.body) == {"a": 1}

"""Bad publish input gets daprd's code and publishes nothing."""

from __future__ import annotations

import asyncio
import json
import pathlib
import uuid
from typing import Any

import aiohttp
import grpc
import pytest
import redis.asyncio as aioredis
from dapr.clients import DaprClient
from dapr.clients.exceptions import DaprGrpcError
from daprjobs.components.pubsub.redisserver import RedisServerProcess

from tests.support.inprocess import InProcessStack

from .conftest import SidecarFactory, write_resources


def topic() -> str:
    return "bad-" + uuid.uuid4().hex[:8]


# The one topic the scoped component lets this app publish to.
ALLOWED = "allowed"


async def http_publish(stack: InProcessStack, path: str, body: bytes = b"{}",
                       headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.post(f"http://127.0.0.1:{stack.sidecar.http_port}{path}",
                                                          data=body, headers=headers or {}) as r:
        text = await r.read()
        return r.status, json.loads(text) if text else {}


@pytest.fixture
async def stack(make_sidecar: SidecarFactory, module_redis: RedisServerProcess,
                tmp_path: pathlib.Path) -> InProcessStack:
    resources = write_resources(tmp_path / "scoped", module_redis.address, publishingScopes="bad-input=allowed")
    return await make_sidecar("bad-input", resources=resources, max_body_size=1024)


async def test_http_errors_have_daprd_codes(stack: InProcessStack, redis_client: aioredis.Redis) -> None:
    name = topic()
    name_out_of_scope = name
    name = ALLOWED
    cases = [
        (f"/v1.0/publish/nope/{name}", b"{}", {}, 404, "ERR_PUBSUB_NOT_FOUND"),
        (f"/v1.0/publish//{name}", b"{}", {}, 404, "ERR_PUBSUB_EMPTY"),
        (f"/v1.0/publish/pubsub/{name_out_of_scope}", b"{}", {}, 403, "ERR_PUBSUB_FORBIDDEN"),
        ("/v1.0/publish/pubsub/", b"{}", {}, 404, "ERR_TOPIC_NAME_EMPTY"),
        (f"/v1.0/publish/pubsub/{name}", b"x" * 2048, {}, 400, "ERR_BODY_READ"),
        (f"/v1.0/publish/pubsub/{name}?metadata.rawPayload=maybe", b"{}", {}, 400, "ERR_PUBSUB_REQUEST_METADATA"),
        (f"/v1.0/publish/pubsub/{name}", b'{"', {"Content-Type": "application/cloudevents+json"}, 500,
         "ERR_PUBSUB_CLOUD_EVENTS_SER"),
        (f"/v1.0/publish/pubsub/{name}?metadata.scheduledSendTime=tomorrow", b"{}", {}, 400,
         "ERR_PUBSUB_REQUEST_METADATA"),
        (f"/v1.0/publish/pubsub/{name}?metadata.scheduledSendDelay=soon", b"{}", {}, 400,
         "ERR_PUBSUB_REQUEST_METADATA"),
        (f"/v1.0-alpha1/publish/bulk/pubsub/{name}", b'{"entryID": "}', {}, 400, "ERR_PUBSUB_EVENTS_SER"),
        (f"/v1.0-alpha1/publish/bulk/pubsub/{name}", b'{"entryID": ""}', {}, 400, "ERR_PUBSUB_EVENTS_SER"),
        (f"/v1.0/publish/bulk/pubsub/{name}", b'[{"entryId":"1","event":"a","contentType":"text/plain"},'
         b'{"entryId":"1","event":"b","contentType":"text/plain"}]', {}, 400, "ERR_PUBSUB_EVENTS_SER"),
        (f"/v1.0/publish/bulk/pubsub/{name}", b'[{"entryId":"1","event":{"a":1},"contentType":"text/plain"}]', {},
         400, "ERR_PUBSUB_EVENTS_SER"),
    ]
    got = []
    for path, body, headers, _, _ in cases:
        status, answer = await http_publish(stack, path, body, headers)
        got.append((status, answer.get("errorCode")))
    assert got == [(status, code) for *_, status, code in cases]
    assert await redis_client.exists(name) == 0  # nothing reached the broker
    assert await redis_client.exists(name_out_of_scope) == 0


async def test_not_found_body_is_daprd_shape(stack: InProcessStack) -> None:
    status, answer = await http_publish(stack, "/v1.0/publish/nope/t")
    assert status == 404
    assert answer["message"] == "pubsub nope is not found"
    assert answer["details"][0]["reason"] == "DAPR_PUBSUB_NOT_FOUND"
    assert answer["details"][0]["domain"] == "dapr.io"


async def test_grpc_errors_have_daprd_codes(stack: InProcessStack, redis_client: aioredis.Redis) -> None:
    name = ALLOWED
    address = f"127.0.0.1:{stack.sidecar.grpc_port}"

    def scenario() -> list[tuple[grpc.StatusCode, str]]:
        out = []
        with DaprClient(address) as client:
            for pubsub, t, data, meta in (
                ("nope", name, "x", {}),
                ("pubsub", "", "x", {}),
                ("pubsub", name, "x" * 4096, {}),
                ("pubsub", name, "x", {"scheduledSendTime": "2030-13-01T00:00:00Z"}),
                ("pubsub", name, "x", {"rawPayload": "yes please"}),
            ):
                try:
                    client.publish_event(pubsub, t, data, publish_metadata=meta)
                    out.append((grpc.StatusCode.OK, ""))
                except DaprGrpcError as exc:
                    out.append((exc.code(), exc.details() or ""))
        return out

    got = await asyncio.to_thread(scenario)
    assert [code for code, _ in got] == [grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.INVALID_ARGUMENT,
                                         grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INVALID_ARGUMENT,
                                         grpc.StatusCode.INVALID_ARGUMENT]
    assert got[0][1] == "pubsub nope is not found" and got[1][1] == "topic is empty in pubsub pubsub"
    assert "scheduledSendTime" in got[3][1]
    assert await redis_client.exists(name) == 0

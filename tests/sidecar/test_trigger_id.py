"""Every job callback carries ``daprjobs-trigger-id`` (job name + scheduled tick): the same on every delivery of
one tick (a retry here; a failover re-fire alike), different between ticks, so apps can drop repeats."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator

import aiohttp
import grpc
from dapr.proto.runtime.v1 import appcallback_pb2, appcallback_pb2_grpc
from daprjobs.core.rfc3339 import parse_rfc3339
from daprjobs.core.trigger_id import TRIGGER_ID_HEADER, trigger_id
from daprjobs.etcd.embedded import free_port
from daprjobs.sidecar.jobs.app_channel import GrpcJobAppChannel, JobCallOutcome

from tests.support.apps import HttpJobApp
from tests.support.inprocess import StackFactory


async def post_job(http_url: str, name: str, body: dict[str, object]) -> None:
    async with aiohttp.ClientSession() as session, session.post(f"{http_url}/v1.0/jobs/{name}", json=body) as r:
        assert r.status == 204, await r.text()


def test_trigger_id_is_printable_ascii_and_names_the_tick() -> None:
    ident = trigger_id("pay/ment é", 1_700_000_000_123_456_789)
    assert ident == "pay%2Fment%20%C3%A9@2023-11-14T22:13:20.123456789Z"
    assert ident.isascii() and ident.isprintable()


async def test_http_callbacks_carry_one_id_per_tick(make_stack: StackFactory, http_app: HttpJobApp) -> None:
    stack = await make_stack("trigger-ids", app_port=http_app.port)
    http_app.statuses["retried"] = [500]  # the first delivery fails: the same tick comes again
    await post_job(stack.http_url, "retried", {"dueTime": "0s", "failurePolicy": {
        "constant": {"interval": "0.2s", "maxRetries": 3}}})
    await post_job(stack.http_url, "ticking", {"schedule": "@every 300ms", "repeats": 3})
    retried = await http_app.wait_for("retried", 2)
    ticking = await http_app.wait_for("ticking", 3)
    ids = [t.headers[TRIGGER_ID_HEADER] for t in retried]
    assert ids[0] == ids[1] and ids[0].startswith("retried@")
    tick_ids = [t.headers[TRIGGER_ID_HEADER] for t in ticking]
    assert len(set(tick_ids)) == 3
    ticks = [parse_rfc3339(i.split("@", 1)[1]) for i in tick_ids]
    assert [b - a for a, b in itertools.pairwise(ticks)] == [300_000_000, 300_000_000]


class _RecordingApp(appcallback_pb2_grpc.AppCallbackServicer):
    def __init__(self) -> None:
        self.metadata: list[dict[str, str]] = []

    async def OnJobEvent(self, request: appcallback_pb2.JobEventRequest,
                         context: grpc.aio.ServicerContext) -> appcallback_pb2.JobEventResponse:
        self.metadata.append({k: str(v) for k, v in context.invocation_metadata() or ()})
        return appcallback_pb2.JobEventResponse()


async def _serve(app: _RecordingApp, port: int) -> AsyncGenerator[None, None]:
    server = grpc.aio.server()
    appcallback_pb2_grpc.add_AppCallbackServicer_to_server(app, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        yield
    finally:
        await server.stop(None)


async def test_grpc_callbacks_carry_the_id_as_metadata() -> None:
    app, port = _RecordingApp(), free_port()
    serving = _serve(app, port)
    await anext(serving)
    channel = GrpcJobAppChannel("127.0.0.1", port, None, 4 * 1024 * 1024)
    try:
        assert await channel.trigger_job("j", None, "j@2024-01-02T03:04:05Z") is JobCallOutcome.SUCCESS
        assert await channel.trigger_job("j", None) is JobCallOutcome.SUCCESS
        await asyncio.sleep(0)
        assert app.metadata[0][TRIGGER_ID_HEADER] == "j@2024-01-02T03:04:05Z"
        assert TRIGGER_ID_HEADER not in app.metadata[1], "no id without a daprjobs scheduler's tick"
    finally:
        await channel.close()
        await serving.aclose()

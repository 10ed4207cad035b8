"""Delayed publish: held as a scheduler job, published at or after its time (never before), through any sidecar of
the app, across restarts of the sidecar and the scheduler; hidden from the app's ListJobs."""

from __future__ import annotations

import asyncio
import datetime
import time
import uuid

import aiohttp
import grpc
import redis.asyncio as aioredis
from dapr.clients import DaprClient
from dapr.proto.runtime.v1 import dapr_pb2_grpc, jobs_pb2
from daprjobs.core.rfc3339 import parse_rfc3339

from tests.support.inprocess import InProcessStack
from tests.support.waiting import eventually

from .apps import HttpSubscriberApp
from .conftest import SidecarFactory


def topic() -> str:
    return "later-" + uuid.uuid4().hex[:8]


def rfc3339_in(seconds: float) -> str:
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def subscriber(name: str) -> HttpSubscriberApp:
    app = HttpSubscriberApp([{"pubsubname": "pubsub", "topic": name, "route": "/later"}])
    await app.start()
    return app


def list_app_jobs(stack: InProcessStack) -> list[str]:
    with grpc.insecure_channel(f"127.0.0.1:{stack.sidecar.grpc_port}") as channel:
        stub = dapr_pb2_grpc.DaprStub(channel)  # type: ignore[no-untyped-call]
        return [job.name for job in stub.ListJobsAlpha1(jobs_pb2.ListJobsRequestAlpha1()).jobs]


async def test_held_until_its_time_and_hidden_from_list_jobs(make_sidecar: SidecarFactory,
                                                              redis_client: aioredis.Redis) -> None:
    name = topic()
    app = await subscriber(name)
    try:
        stack = await make_sidecar("delayer", app_port=app.port)
        await eventually(lambda: stack.sidecar.metadata().subscriptions, what="subscribed")
        at = rfc3339_in(4)

        def publish() -> None:
            with DaprClient(f"127.0.0.1:{stack.sidecar.grpc_port}") as client:
                client.publish_event("pubsub", name, "by time", publish_metadata={"scheduledSendTime": at})
                client.publish_event("pubsub", name, "by delay", publish_metadata={"scheduledSendDelay": "4s"})

        published_ns = time.time_ns()
        await asyncio.to_thread(publish)
        # Held in the scheduler, not in the stream; the app's own job list does not show it.
        assert await redis_client.xlen(name) == 0  # the subscription made the stream; it holds nothing yet
        assert await asyncio.to_thread(list_app_jobs, stack) == []
        await eventually(lambda: len(app.at("/later")) == 2, timeout=60, what="both delayed messages")
    finally:
        await app.stop()
    by_body = {d.event["data"]: d for d in app.at("/later")}
    assert parse_rfc3339(by_body["by time"].received_at) >= parse_rfc3339(at)
    assert parse_rfc3339(by_body["by delay"].received_at) >= published_ns + 4_000_000_000
    assert by_body["by time"].headers["scheduledSendTime"] == at  # metadata passed through


async def test_survives_sidecar_and_scheduler_restart(make_sidecar: SidecarFactory) -> None:
    name = topic()
    app = await subscriber(name)
    try:
        first = await make_sidecar("restarts", app_port=app.port)
        await eventually(lambda: first.sidecar.metadata().subscriptions, what="subscribed")
        base = f"http://127.0.0.1:{first.sidecar.http_port}"
        at = rfc3339_in(5)
        async with aiohttp.ClientSession() as http, http.post(
                f"{base}/v1.0/publish/pubsub/{name}?metadata.scheduledSendTime={at}", json={"m": 1}) as r:
            assert r.status == 204
        # The publishing sidecar and the scheduler go away before the time; another sidecar of the app takes over.
        await first.sidecar.stop()
        await first.stop_scheduler()
        await first.start_scheduler()
        await make_sidecar("restarts", app_port=app.port, scheduler_of=first)
        await eventually(lambda: app.at("/later"), timeout=60, what="delayed message after restarts")
    finally:
        await app.stop()
    delivery = app.at("/later")[0]
    assert delivery.event["data"] == {"m": 1}
    assert parse_rfc3339(delivery.received_at) >= parse_rfc3339(at)


async def test_published_by_a_sidecar_whose_app_does_not_answer(make_sidecar: SidecarFactory) -> None:
    """A publish-only app (no app port, so no app job streams) still gets its delayed messages out: they ride the
    sidecar's internal link, not the app's job streams."""
    name = topic()
    app = await subscriber(name)
    try:
        receiver = await make_sidecar("delay-receiver", app_port=app.port)
        await eventually(lambda: receiver.sidecar.metadata().subscriptions, what="subscribed")
        publisher = await make_sidecar("delay-publisher", scheduler_of=receiver)
        at = rfc3339_in(2)
        base = f"http://127.0.0.1:{publisher.sidecar.http_port}"
        async with aiohttp.ClientSession() as http, http.post(
                f"{base}/v1.0/publish/pubsub/{name}?metadata.scheduledSendTime={at}", json={"m": 2}) as r:
            assert r.status == 204
        await eventually(lambda: app.at("/later"), timeout=60, what="delayed message from a publish-only app")
    finally:
        await app.stop()
    delivery = app.at("/later")[0]
    assert delivery.event["data"] == {"m": 2}
    assert parse_rfc3339(delivery.received_at) >= parse_rfc3339(at)

"""The app's answers: RETRY and errors are delivered again, SUCCESS, DROP and 404 are not; dead-letter topics;
instances of one app share messages, different apps each get all."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import redis.asyncio as aioredis

from tests.support.inprocess import InProcessStack
from tests.support.waiting import eventually

from .apps import HttpSubscriberApp
from .conftest import SidecarFactory


def topic() -> str:
    return "t-" + uuid.uuid4().hex[:8]


async def publish(stack: InProcessStack, name: str, body: dict[str, object]) -> None:
    async with aiohttp.ClientSession() as http, http.post(
            f"http://127.0.0.1:{stack.sidecar.http_port}/v1.0/publish/pubsub/{name}", json=body) as r:
        assert r.status == 204, await r.text()


async def test_retry_redelivers_drop_and_404_do_not(make_sidecar: SidecarFactory,
                                                     redis_client: aioredis.Redis) -> None:
    name = topic()
    app = HttpSubscriberApp([{"pubsubname": "pubsub", "topic": name, "route": "/r"}])
    app.answers["/r"] = [(200, {"status": "RETRY"}), (500, None), (200, {"status": "success"})]
    await app.start()
    try:
        stack = await make_sidecar("outcomes", app_port=app.port)
        await eventually(lambda: stack.sidecar.metadata().subscriptions, what="subscribed")
        await publish(stack, name, {"k": "retried"})
        # RETRY, 500 and lowercase "success" all mean: again. The fourth delivery gets the default 200.
        await eventually(lambda: len(app.at("/r")) >= 4, what="three redeliveries")
        await eventually(lambda: _pending(redis_client, name, "outcomes"), what="acked after success")
        app.answers["/r"] = [(200, {"status": "DROP"}), (404, None)]
        before = len(app.at("/r"))
        await publish(stack, name, {"k": "dropped"})
        await publish(stack, name, {"k": "not-found"})
        await eventually(lambda: len(app.at("/r")) == before + 2, what="two deliveries")
        await asyncio.sleep(2.5)  # > processingTimeout + redeliverInterval: a redelivery would be here by now
    finally:
        await app.stop()
    bodies = [d.event["data"]["k"] for d in app.at("/r")]
    assert bodies.count("retried") == 4
    assert bodies.count("dropped") == 1 and bodies.count("not-found") == 1
    assert (await redis_client.xpending(name, "outcomes"))["pending"] == 0


async def _pending(client: aioredis.Redis, stream: str, group: str) -> bool:
    return bool((await client.xpending(stream, group))["pending"] == 0)


async def test_dead_letter_gets_dropped_events(make_sidecar: SidecarFactory) -> None:
    name, dead = topic(), topic()
    app = HttpSubscriberApp([
        {"pubsubname": "pubsub", "topic": name, "route": "/main", "deadLetterTopic": dead},
        {"pubsubname": "pubsub", "topic": dead, "route": "/dead"},
    ])
    app.answers["/main"] = [(200, {"status": "DROP"})]
    await app.start()
    try:
        stack = await make_sidecar("dl-app", app_port=app.port)
        await eventually(lambda: len(stack.sidecar.metadata().subscriptions) == 2, what="subscribed")
        await publish(stack, name, {"k": "to-dead-letter"})
        await eventually(lambda: app.at("/dead"), what="dead-lettered event")
    finally:
        await app.stop()
    original = app.at("/main")[0].event
    dead_event = app.at("/dead")[0].event
    # The original broker bytes go to the dead-letter topic: same id, same topic field.
    assert dead_event["id"] == original["id"] and dead_event["topic"] == name


async def test_instances_share_apps_fan_out(make_sidecar: SidecarFactory) -> None:
    name = topic()
    subs = [{"pubsubname": "pubsub", "topic": name, "route": "/e"}]
    a1, a2, b = HttpSubscriberApp(subs), HttpSubscriberApp(subs), HttpSubscriberApp(subs)
    for app in (a1, a2, b):
        await app.start()
    try:
        s_a1 = await make_sidecar("fan-a", app_port=a1.port)
        await make_sidecar("fan-a", app_port=a2.port)
        await make_sidecar("fan-b", app_port=b.port)
        for app in (a1, a2, b):
            await eventually(lambda app=app: app.subscriptions and app.deliveries is not None, what="started")
        await asyncio.sleep(1.0)  # every sidecar has asked its app for subscriptions
        for i in range(20):
            await publish(s_a1, name, {"i": i})
        await eventually(lambda: len(b.deliveries) == 20 and len(a1.deliveries) + len(a2.deliveries) == 20,
                         what="all delivered")
    finally:
        for app in (a1, a2, b):
            await app.stop()
    assert sorted(d.event["data"]["i"] for d in b.deliveries) == list(range(20))
    assert sorted(d.event["data"]["i"] for d in a1.deliveries + a2.deliveries) == list(range(20))

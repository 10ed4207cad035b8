"""Publish through the sidecar, receive through each kind of subscription (real redis, etcd, SDK clients)."""

from __future__ import annotations

import asyncio
import json
import pathlib
import threading
import uuid

import aiohttp
from dapr.clients import DaprClient
from dapr.clients.grpc._response import TopicEventResponse
from dapr.ext.grpc import App, Rule, SubscriptionMessage
from daprjobs.components.pubsub.redisserver import RedisServerProcess
from daprjobs.etcd.embedded import free_port

from tests.support.inprocess import in_own_loop
from tests.support.waiting import eventually

from .apps import GrpcSubscriber, HttpSubscriberApp
from .conftest import SidecarFactory, write_resources


def topic() -> str:
    return "orders-" + uuid.uuid4().hex[:8]


async def test_http_app_gets_daprd_cloudevent(make_sidecar: SidecarFactory) -> None:
    name = topic()
    app = HttpSubscriberApp([{"pubsubname": "pubsub", "topic": name, "route": "/orders"}])
    await app.start()
    try:
        stack = await make_sidecar("shop", app_port=app.port)
        await eventually(lambda: stack.sidecar.metadata().subscriptions, what="app subscribed")

        def publish() -> None:
            with DaprClient(f"127.0.0.1:{stack.sidecar.grpc_port}") as client:
                client.publish_event("pubsub", name, json.dumps({"n": 1}), data_content_type="application/json",
                                     publish_metadata={"cloudevent.subject": "s1", "ttlInSeconds": "600"})
                client.publish_event("pubsub", name, "plain text")

        await asyncio.to_thread(publish)
        await eventually(lambda: len(app.at("/orders")) == 2, what="two deliveries")
    finally:
        await app.stop()
    first, second = (d.event for d in app.at("/orders"))
    assert first["data"] == {"n": 1} and first["datacontenttype"] == "application/json"
    assert first["source"] == "shop" and first["type"] == "com.dapr.event.sent" and first["specversion"] == "1.0"
    assert first["topic"] == name and first["pubsubname"] == "pubsub" and first["subject"] == "s1"
    assert first["expiration"] > first["time"]
    assert {"id", "traceid", "traceparent", "tracestate", "time"} <= first.keys()
    assert second["data"] == "plain text" and second["datacontenttype"] == "text/plain"
    delivery = app.at("/orders")[0]
    assert delivery.headers["Content-Type"] == "application/cloudevents+json"
    assert delivery.headers["pubsubName"] == "pubsub"
    meta = stack.sidecar.metadata()
    assert [(s.pubsub_name, s.topic, s.type) for s in meta.subscriptions] == [("pubsub", name, 2)]
    async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{stack.sidecar.http_port}/v1.0/metadata") as r:
        described = await r.json()
    assert described["subscriptions"] == [{"pubsubname": "pubsub", "topic": name, "rules": [{"path": "/orders"}],
                                           "deadLetterTopic": "", "type": "PROGRAMMATIC"}]
    assert {"name": "pubsub", "type": "pubsub.redis", "version": "v1"} in described["components"]


async def test_http_publish_cloudevent_passthrough_raw_and_bulk(make_sidecar: SidecarFactory) -> None:
    name = topic()
    app = HttpSubscriberApp([{"pubsubname": "pubsub", "topic": name, "route": "/in"}])
    await app.start()
    try:
        stack = await make_sidecar("ce-app", app_port=app.port)
        await eventually(lambda: stack.sidecar.metadata().subscriptions, what="app subscribed")
        base = f"http://127.0.0.1:{stack.sidecar.http_port}"
        async with aiohttp.ClientSession() as http:
            own = {"id": "my-id", "source": "elsewhere", "type": "t", "specversion": "1.0", "data": {"k": 1},
                   "topic": "wrong"}
            async with http.post(f"{base}/v1.0/publish/pubsub/{name}", json=own,
                                 headers={"Content-Type": "application/cloudevents+json"}) as r:
                assert r.status == 204
            async with http.post(f"{base}/v1.0-alpha1/publish/bulk/pubsub/{name}", json=[
                {"entryId": "1", "event": {"b": 1}, "contentType": "application/json"},
                {"entryId": "2", "event": "hi", "contentType": "text/plain"},
            ]) as r:
                assert r.status == 204, await r.text()
        await eventually(lambda: len(app.at("/in")) == 3, what="three deliveries")
    finally:
        await app.stop()
    events = {json.dumps(d.event.get("data"), sort_keys=True): d.event for d in app.at("/in")}
    passed = events[json.dumps({"k": 1})]
    assert (passed["id"], passed["source"], passed["type"], passed["topic"]) == ("my-id", "elsewhere", "t", name)
    assert events['"hi"']["datacontenttype"] == "text/plain"
    assert events[json.dumps({"b": 1})]["datacontenttype"] == "application/json"


async def test_grpc_app_gets_on_topic_event(make_sidecar: SidecarFactory) -> None:
    name = topic()
    app = GrpcSubscriber([("pubsub", name)])
    app.start()
    try:
        stack = await make_sidecar("grpc-sub", app_port=app.port, app_protocol="grpc")
        await eventually(lambda: stack.sidecar.metadata().subscriptions, what="app subscribed")

        def publish() -> None:
            with DaprClient(f"127.0.0.1:{stack.sidecar.grpc_port}") as client:
                client.publish_event("pubsub", name, b"\x00\x01", data_content_type="application/octet-stream")

        await asyncio.to_thread(publish)
        event = await app.next_event()
    finally:
        app.stop()
    assert event.raw_data() == b"\x00\x01"
    assert event.data_content_type() == "application/octet-stream"
    assert event.extensions()["topic"] == name and event.extensions()["pubsubname"] == "pubsub"


async def test_declarative_routes_with_cel_and_scopes(make_sidecar: SidecarFactory, tmp_path: pathlib.Path,
                                                     module_redis: RedisServerProcess) -> None:
    name = topic()
    resources = write_resources(tmp_path / "res", module_redis.address, f"""\
        apiVersion: dapr.io/v2alpha1
        kind: Subscription
        metadata:
          name: routed
        spec:
          pubsubname: pubsub
          topic: {name}
          routes:
            rules:
              - match: event.type == "big" && event.data.n > 10
                path: /big
            default: /small
        scopes: [router]
        ---
        apiVersion: dapr.io/v1alpha1
        kind: Subscription
        metadata:
          name: not-mine
        spec:
          pubsubname: pubsub
          topic: other-{name}
          route: /other
        scopes: [someone-else]
        """)
    app = HttpSubscriberApp()
    await app.start()
    try:
        stack = await make_sidecar("router", resources=resources, app_port=app.port)
        await eventually(lambda: stack.sidecar.metadata().subscriptions, what="declarative subscription")
        base = f"http://127.0.0.1:{stack.sidecar.http_port}"
        async with aiohttp.ClientSession() as http:
            for n, kind in ((50, "big"), (5, "big"), (50, "small")):
                async with http.post(f"{base}/v1.0/publish/pubsub/{name}?metadata.cloudevent.type={kind}",
                                     json={"n": n}) as r:
                    assert r.status == 204
        await eventually(lambda: len(app.deliveries) == 3, what="three routed deliveries")
    finally:
        await app.stop()
    assert [d.event["data"]["n"] for d in app.at("/big")] == [50]
    assert sorted(d.event["data"]["n"] for d in app.at("/small")) == [5, 50]
    subs = stack.sidecar.metadata().subscriptions
    assert [(s.topic, s.type, [(r.match, r.path) for r in s.rules.rules]) for s in subs] == [
        (name, 1, [('event.type == "big" && event.data.n > 10', "/big"), ("", "/small")])]


async def test_streaming_subscription_with_sdk(make_sidecar: SidecarFactory) -> None:
    name = topic()
    stack = await make_sidecar("streamer")
    address = f"127.0.0.1:{stack.sidecar.grpc_port}"

    def scenario() -> list[tuple[str, bytes]]:
        got: list[tuple[str, bytes]] = []
        with DaprClient(address) as client:
            subscription = client.subscribe("pubsub", name)
            try:
                client.publish_event("pubsub", name, "one")
                client.publish_event("pubsub", name, "two")
                while len(got) < 2:
                    message = subscription.next_message()
                    if message is None:
                        continue
                    got.append((message.topic(), message.raw_data()))
                    subscription.respond_success(message)
            finally:
                subscription.close()
        return got

    got = await asyncio.wait_for(asyncio.to_thread(scenario), 60)
    assert sorted(got) == [(name, b"one"), (name, b"two")]
    await eventually(lambda: not stack.sidecar.metadata().subscriptions, what="stream subscription removed")


async def test_aio_client_publish_reaches_sdk_grpc_app_with_rule(make_sidecar: SidecarFactory) -> None:
    name = topic()
    received: list[tuple[str, str]] = []
    app = App()

    @app.subscribe("pubsub", name, rule=Rule('event.type == "special"', 1))
    def special(event: SubscriptionMessage) -> TopicEventResponse:
        received.append(("special", event.raw_data().decode()))
        return TopicEventResponse("success")

    port = free_port()
    thread = threading.Thread(target=app.run, args=(port, "127.0.0.1"), daemon=True)
    thread.start()
    try:
        stack = await make_sidecar("aio-pub", app_port=port, app_protocol="grpc")
        await eventually(lambda: stack.sidecar.metadata().subscriptions, what="app subscribed")
        address = f"127.0.0.1:{stack.sidecar.grpc_port}"

        async def publish() -> None:
            from dapr.aio.clients import DaprClient as AioClient
            async with AioClient(address) as client:
                await client.publish_event("pubsub", name, "x", publish_metadata={"cloudevent.type": "special"})
                await client.publish_event("pubsub", name, "y", publish_metadata={"cloudevent.type": "plain"})

        await in_own_loop(publish)
        await eventually(lambda: received, what="special event")
        await asyncio.sleep(0.5)
    finally:
        app.stop()
        thread.join(timeout=10)
    # "plain" matches no rule: daprd acks and skips it.
    assert received == [("special", "x")]

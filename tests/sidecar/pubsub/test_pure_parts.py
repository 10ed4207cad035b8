"""Pure parts of the pub/sub block: the envelope daprd builds, the app's answers, subscription parsing, delays."""

from __future__ import annotations

import datetime
import json

import pytest
from dapr.proto.runtime.v1 import appcallback_pb2
from daprjobs.sidecar.pubsub.cloudevents import (
    EnvelopeError,
    MetadataError,
    build_envelope,
    is_raw_payload,
)
from daprjobs.sidecar.pubsub.delayed import HeldMessage, send_time_ns
from daprjobs.sidecar.pubsub.routing import Router, Rule, RuleError
from daprjobs.sidecar.pubsub.scopes import TopicScopes
from daprjobs.sidecar.pubsub.subscriber_app import Outcome, outcome_from_http, topic_event_request
from daprjobs.sidecar.pubsub.subscriptions import (
    Subscription,
    SubscriptionKind,
    from_grpc_app,
    from_http_app,
    merge,
)

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=datetime.UTC)


def envelope(body: bytes, content_type: str = "", **meta: str) -> dict[str, object]:
    out = build_envelope(body, content_type, topic="t", pubsub="ps", app_id="app", metadata=meta, now=NOW)
    return dict(json.loads(out))


def test_envelope_fields_as_daprd() -> None:
    event = envelope(b'{"a": 1}', "application/json", **{"cloudevent.id": "x", "ttlInSeconds": "60"})
    assert event == {"id": "x", "specversion": "1.0", "source": "app", "type": "com.dapr.event.sent",
                     "datacontenttype": "application/json", "topic": "t", "pubsubname": "ps", "traceid": "",
                     "traceparent": "", "tracestate": "", "time": "2026-01-02T03:04:05Z", "data": {"a": 1},
                     "expiration": "2026-01-02T03:05:05Z"}
    assert envelope(b"hi")["data"] == "hi" and envelope(b"hi")["datacontenttype"] == "text/plain"
    assert envelope(b"\x00", "application/octet-stream")["data_base64"] == "AA=="
    assert envelope(b"not json", "application/json")["data"] == "not json"


def test_existing_cloudevent_kept_topic_overwritten() -> None:
    event = envelope(b'{"id":"mine","topic":"other","data":1}', "application/cloudevents+json",
                     **{"cloudevent.type": "ignored"})
    assert (event["id"], event["topic"], event["pubsubname"], event["type"]) == (
        "mine", "t", "ps", "com.dapr.event.sent")
    with pytest.raises(EnvelopeError):
        envelope(b'{"', "application/cloudevents+json")


def test_raw_payload_is_go_bool() -> None:
    assert is_raw_payload({"rawPayload": "True"}) and not is_raw_payload({"rawPayload": "0"})
    with pytest.raises(MetadataError, match="rawPayload value must be a valid boolean: actual is 'yes'"):
        is_raw_payload({"rawPayload": "yes"})


@pytest.mark.parametrize(("status", "body", "outcome"), [
    (200, b"", Outcome.SUCCESS), (204, b"not json", Outcome.SUCCESS), (200, b'{"status":""}', Outcome.SUCCESS),
    (200, b'{"status":"RETRY"}', Outcome.RETRY), (200, b'{"status":"success"}', Outcome.RETRY),
    (200, b'{"status":"DROP"}', Outcome.DROP), (404, b"", Outcome.DROP), (500, b"", Outcome.RETRY),
])
def test_http_answers(status: int, body: bytes, outcome: Outcome) -> None:
    assert outcome_from_http(status, body) is outcome


def test_grpc_envelope_data_and_extensions() -> None:
    request = topic_event_request({"id": "1", "datacontenttype": "application/json", "data": {"a": 1},
                                   "topic": "t", "pubsubname": "ps", "custom": "x", "source": "s"}, "/p")
    assert request.data == b'{"a":1}' and request.path == "/p"
    assert dict(request.extensions) == {"topic": "t", "pubsubname": "ps", "custom": "x"}
    assert topic_event_request({"datacontenttype": "text/plain", "data": "hé"}, "").data == "hé".encode()
    assert topic_event_request({"datacontenttype": "image/png", "data": "x"}, "").data == b""


def test_subscriptions_parsing_and_precedence() -> None:
    http = from_http_app([
        {"pubsubname": "ps", "topic": "a", "routes": {"rules": [{"match": "event.x", "path": "/x"}],
                                                       "default": "/d"}, "deadLetterTopic": "dl"},
        {"pubsubname": "ps", "topic": "b", "route": "/b"},
        {"pubsubname": "ps", "topic": "no-route"},
    ], "app")
    assert [(s.topic, [(r.match, r.path) for r in s.rules], s.dead_letter_topic) for s in http] == [
        ("a", [("event.x", "/x"), ("", "/d")], "dl"), ("b", [("", "/b")], "")]
    grpc_subs = from_grpc_app(appcallback_pb2.ListTopicSubscriptionsResponse(subscriptions=[
        appcallback_pb2.TopicSubscription(pubsub_name="ps", topic="b")]))
    assert [(r.match, r.path) for r in grpc_subs[0].rules] == [("", "")]
    declared = [Subscription("ps", "b", (Rule("", "/decl"),), SubscriptionKind.DECLARATIVE)]
    merged = merge(declared, grpc_subs)
    assert [(s.topic, s.kind) for s in merged] == [("b", SubscriptionKind.PROGRAMMATIC)]


def test_routing_errors() -> None:
    with pytest.raises(RuleError):
        Router([Rule("event.type ==", "/x")])
    with pytest.raises(RuleError):
        Router([Rule("event.data", "/x")]).route({"data": 1})  # not a bool


def test_send_time_forms() -> None:
    now = 1_000_000_000_000_000_000
    assert send_time_ns({}, now) is None
    assert send_time_ns({"scheduledSendDelay": "1m30s"}, now) == now + 90_000_000_000
    assert send_time_ns({"scheduledSendTime": "2045-11-05T08:15:30-05:00"}, now) == 2393500530 * 10**9  # 13:15:30 UTC
    for bad in ({"scheduledSendTime": "tomorrow"}, {"scheduledSendDelay": "-1s"},
                {"scheduledSendTime": "2045-11-05T08:15:30Z", "scheduledSendDelay": "1s"}):
        with pytest.raises(MetadataError):
            send_time_ns(bad, now)


def test_held_message_round_trip() -> None:
    held = HeldMessage("ps", "t", b"\x00bytes", {"k": "v"})
    assert HeldMessage.from_any(held.to_any()) == held


def test_topic_scopes_as_daprd() -> None:
    meta = {"publishingScopes": "app1=a,b;app2=", "subscriptionScopes": "app1=a", "protectedTopics": "p",
            "allowedTopics": "a,b,c,p"}
    app1, app2, other = (TopicScopes.from_metadata(meta, app) for app in ("app1", "app2", "other"))
    assert (app1.may_publish("a"), app1.may_publish("c"), app1.may_subscribe("b")) == (True, False, False)
    assert (app2.may_publish("a"), app2.may_subscribe("c")) == (False, True)
    assert (other.may_publish("c"), other.may_publish("p"), other.may_publish("zzz")) == (True, False, False)

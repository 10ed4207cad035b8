"""/dapr/config and the stream's initial request → ActorAppConfig (pure)."""

from __future__ import annotations

import pytest
from dapr.proto.runtime.v1 import actors_pb2
from daprjobs.actors.appconfig import (
    DEFAULT_IDLE_TIMEOUT_NS,
    AppConfigError,
    from_initial_request,
    parse_app_config,
)
from google.protobuf import duration_pb2

S = 1_000_000_000


def test_python_sdk_config() -> None:
    body = (
        b'{"actorIdleTimeout":"1h0m0s0ms0\\u03bcs","actorScanInterval":"0h0m30s0ms0\\u03bcs",'
        b'"drainOngoingCallTimeout":"0h1m0s0ms0\\u03bcs","drainRebalancedActors":true,'
        b'"reentrancy":{"enabled":true,"maxStackDepth":8},"remindersStoragePartitions":7,'
        b'"entitiesConfig":[{"entities":["DemoActor"],"actorIdleTimeout":"0h5m0s0ms0\\u03bcs"}],'
        b'"entities":["DemoActor","Other"]}'
    )
    config = parse_app_config(body)
    assert config.entities == ("DemoActor", "Other")
    assert config.defaults.idle_timeout_ns == 3600 * S
    assert config.defaults.drain_ongoing_call_timeout_ns == 60 * S
    assert config.defaults.reentrancy.enabled and config.defaults.reentrancy.max_stack_depth == 8
    demo = config.for_type("DemoActor")
    assert demo.idle_timeout_ns == 300 * S
    assert demo.reentrancy.enabled  # inherited from the defaults
    assert config.for_type("Other").idle_timeout_ns == 3600 * S


def test_hours_over_24_and_micro_sign_variants() -> None:
    config = parse_app_config(b'{"entities":["A"],"actorIdleTimeout":"25h0m0s5ms0\\u03bcs"}')
    assert config.defaults.idle_timeout_ns == 25 * 3600 * S + 5_000_000
    assert parse_app_config('{"actorIdleTimeout":"10µs"}'.encode()).defaults.idle_timeout_ns == 10_000
    assert parse_app_config(b'{"actorIdleTimeout":"3us"}').defaults.idle_timeout_ns == 3_000


@pytest.mark.parametrize("value", ['"soon"', "5", '"-1s"', '""', "null"])
def test_unreadable_durations_fall_back_to_the_default(value: str) -> None:
    config = parse_app_config(f'{{"entities":["A"],"actorIdleTimeout":{value}}}'.encode())
    assert config.defaults.idle_timeout_ns == DEFAULT_IDLE_TIMEOUT_NS
    assert config.entities == ("A",)


def test_node_style_config_and_defaults() -> None:
    config = parse_app_config(b'{"entities":["Counter"],"actorIdleTimeout":"1h","reentrancy":{"enabled":false}}')
    assert config.entities == ("Counter",)
    assert not config.defaults.reentrancy.enabled
    assert config.defaults.reentrancy.max_stack_depth == 32
    assert parse_app_config(b"{}").entities == ()


@pytest.mark.parametrize("body", [b"not json", b"[1]", b'"x"'])
def test_non_object_config_is_an_error(body: bytes) -> None:
    with pytest.raises(AppConfigError):
        parse_app_config(body)


def test_initial_request() -> None:
    initial = actors_pb2.SubscribeActorEventsRequestInitialAlpha1(
        entities=["A", "B"],
        actor_idle_timeout=duration_pb2.Duration(seconds=90),
        reentrancy=actors_pb2.ActorReentrancyConfig(enabled=True, max_stack_depth=4),
        entities_config=[
            actors_pb2.ActorEntityConfig(entities=["B", "C"], actor_idle_timeout=duration_pb2.Duration(seconds=5))
        ],
    )
    config = from_initial_request(initial)
    assert config.entities == ("A", "B", "C")
    assert config.for_type("A").idle_timeout_ns == 90 * S
    assert config.for_type("B").idle_timeout_ns == 5 * S
    assert config.for_type("C").reentrancy.max_stack_depth == 4
    bare = from_initial_request(actors_pb2.SubscribeActorEventsRequestInitialAlpha1(entities=["X"]))
    assert bare.for_type("X").idle_timeout_ns == DEFAULT_IDLE_TIMEOUT_NS
    assert not bare.for_type("X").reentrancy.enabled

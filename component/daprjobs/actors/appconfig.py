"""The app's actor configuration: ``GET /dapr/config`` (HTTP hosts) or the stream's initial request (gRPC hosts).

daprd reads ``entities``, ``actorIdleTimeout``, ``drainOngoingCallTimeout``, ``drainRebalancedActors``,
``reentrancy{enabled,maxStackDepth}`` and ``entitiesConfig[]`` (per-type overrides); durations are Go durations
(the Python SDK's ``1h0m0s0ms0μs`` included, hours over 24 allowed) and an unreadable one falls back to its
default. ``actorScanInterval`` and ``remindersStoragePartitions`` are ignored, as daprd ignores them.
No I/O here.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace

from dapr.proto.runtime.v1 import actors_pb2
from google.protobuf import duration_pb2

from daprjobs.core import go_duration, timeunits

log = logging.getLogger(__name__)

DEFAULT_IDLE_TIMEOUT_NS = 60 * timeunits.NS_PER_MINUTE
DEFAULT_DRAIN_ONGOING_CALL_TIMEOUT_NS = 60 * timeunits.NS_PER_SECOND
DEFAULT_MAX_STACK_DEPTH = 32


@dataclass(frozen=True)
class ReentrancyConfig:
    enabled: bool = False
    max_stack_depth: int = DEFAULT_MAX_STACK_DEPTH


@dataclass(frozen=True)
class ActorTypeConfig:
    idle_timeout_ns: int = DEFAULT_IDLE_TIMEOUT_NS
    drain_ongoing_call_timeout_ns: int = DEFAULT_DRAIN_ONGOING_CALL_TIMEOUT_NS
    drain_rebalanced_actors: bool = True
    reentrancy: ReentrancyConfig = ReentrancyConfig()


@dataclass(frozen=True)
class ActorAppConfig:
    entities: tuple[str, ...] = ()
    defaults: ActorTypeConfig = ActorTypeConfig()
    per_type: dict[str, ActorTypeConfig] = field(default_factory=dict)

    def for_type(self, actor_type: str) -> ActorTypeConfig:
        return self.per_type.get(actor_type, self.defaults)


class AppConfigError(ValueError):
    """The app's configuration document is not JSON of the expected shape."""


def _duration_field(doc: dict[str, object], key: str, default_ns: int) -> int:
    value = doc.get(key)
    if value is None or value == "":
        return default_ns
    if not isinstance(value, str):
        log.warning("actor config: %s=%r is not a duration string, using the default", key, value)
        return default_ns
    try:
        ns = go_duration.parse_go_duration(value)
    except ValueError:
        log.warning("actor config: %s=%r is not a Go duration, using the default", key, value)
        return default_ns
    if ns <= 0:
        return default_ns
    return ns


def _reentrancy(value: object, default: ReentrancyConfig) -> ReentrancyConfig:
    if not isinstance(value, dict):
        return default
    enabled = bool(value.get("enabled", False))
    depth = value.get("maxStackDepth")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth <= 0:
        depth = DEFAULT_MAX_STACK_DEPTH
    return ReentrancyConfig(enabled=enabled, max_stack_depth=depth)


def _type_config(doc: dict[str, object], base: ActorTypeConfig) -> ActorTypeConfig:
    drain = doc.get("drainRebalancedActors")
    return ActorTypeConfig(
        idle_timeout_ns=_duration_field(doc, "actorIdleTimeout", base.idle_timeout_ns),
        drain_ongoing_call_timeout_ns=_duration_field(
            doc, "drainOngoingCallTimeout", base.drain_ongoing_call_timeout_ns
        ),
        drain_rebalanced_actors=drain if isinstance(drain, bool) else base.drain_rebalanced_actors,
        reentrancy=_reentrancy(doc.get("reentrancy"), base.reentrancy),
    )


def _strings(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str) and v]


def parse_app_config(body: bytes) -> ActorAppConfig:
    """The ``GET /dapr/config`` JSON document. Raises AppConfigError when it is not a JSON object."""
    try:
        doc = json.loads(body or b"{}")
    except ValueError as err:
        raise AppConfigError(f"/dapr/config is not JSON: {err}") from err
    if not isinstance(doc, dict):
        raise AppConfigError("/dapr/config is not a JSON object")
    defaults = _type_config(doc, ActorTypeConfig())
    entities = _strings(doc.get("entities"))
    per_type: dict[str, ActorTypeConfig] = {}
    for entry in doc.get("entitiesConfig") or []:
        if not isinstance(entry, dict):
            continue
        config = _type_config(entry, defaults)
        for entity in _strings(entry.get("entities")):
            per_type[entity] = config
    return ActorAppConfig(entities=_unique(entities), defaults=defaults, per_type=per_type)


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _proto_duration_ns(d: duration_pb2.Duration) -> int:
    return d.seconds * timeunits.NS_PER_SECOND + d.nanos


def _proto_type_config(
    base: ActorTypeConfig,
    idle: duration_pb2.Duration | None,
    drain_timeout: duration_pb2.Duration | None,
    drain: bool | None,
    reentrancy: actors_pb2.ActorReentrancyConfig | None,
) -> ActorTypeConfig:
    config = base
    if idle is not None and _proto_duration_ns(idle) > 0:
        config = replace(config, idle_timeout_ns=_proto_duration_ns(idle))
    if drain_timeout is not None and _proto_duration_ns(drain_timeout) > 0:
        config = replace(config, drain_ongoing_call_timeout_ns=_proto_duration_ns(drain_timeout))
    if drain is not None:
        config = replace(config, drain_rebalanced_actors=drain)
    if reentrancy is not None:
        depth = reentrancy.max_stack_depth if reentrancy.HasField("max_stack_depth") else DEFAULT_MAX_STACK_DEPTH
        config = replace(
            config,
            reentrancy=ReentrancyConfig(enabled=reentrancy.enabled, max_stack_depth=depth or DEFAULT_MAX_STACK_DEPTH),
        )
    return config


def from_initial_request(initial: actors_pb2.SubscribeActorEventsRequestInitialAlpha1) -> ActorAppConfig:
    """The gRPC actor host's registration (``SubscribeActorEventsAlpha1`` initial request)."""
    defaults = _proto_type_config(
        ActorTypeConfig(),
        initial.actor_idle_timeout if initial.HasField("actor_idle_timeout") else None,
        initial.drain_ongoing_call_timeout if initial.HasField("drain_ongoing_call_timeout") else None,
        initial.drain_rebalanced_actors if initial.HasField("drain_rebalanced_actors") else None,
        initial.reentrancy if initial.HasField("reentrancy") else None,
    )
    per_type: dict[str, ActorTypeConfig] = {}
    entities = [e for e in initial.entities if e]
    for entry in initial.entities_config:
        config = _proto_type_config(
            defaults,
            entry.actor_idle_timeout if entry.HasField("actor_idle_timeout") else None,
            entry.drain_ongoing_call_timeout if entry.HasField("drain_ongoing_call_timeout") else None,
            entry.drain_rebalanced_actors if entry.HasField("drain_rebalanced_actors") else None,
            entry.reentrancy if entry.HasField("reentrancy") else None,
        )
        for entity in entry.entities:
            if entity:
                per_type[entity] = config
                entities.append(entity)
    return ActorAppConfig(entities=_unique(entities), defaults=defaults, per_type=per_type)

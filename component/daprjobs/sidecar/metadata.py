"""The sidecar's self-description: gRPC ``GetMetadataResponse`` and the ``GET /v1.0/metadata`` JSON.

Node SDK clients need a non-empty JSON body (HTTP) or an OK ``GetMetadata`` (gRPC) before they start.
The JSON keys follow daprd's ``metadataResponse`` struct (``pkg/api/http/metadata.go``).
"""

from __future__ import annotations

from importlib import metadata as pkg_metadata
from typing import Any

from dapr.proto.runtime.v1 import metadata_pb2

from daprjobs.sidecar.config import SidecarConfig


def runtime_version() -> str:
    try:
        return f"daprjobs-{pkg_metadata.version('daprjobs')}"
    except pkg_metadata.PackageNotFoundError:
        return "daprjobs-dev"


def base_response(
    config: SidecarConfig, scheduler_addresses: list[str], extended: dict[str, str]
) -> metadata_pb2.GetMetadataResponse:
    """The sidecar's own part of the answer; each building block's ``describe`` adds its part after."""
    resp = metadata_pb2.GetMetadataResponse(id=config.app_id, runtime_version=runtime_version())
    resp.actor_runtime.runtime_status = metadata_pb2.ActorRuntime.DISABLED
    for component in config.resources:
        resp.registered_components.add(name=component.name, type=component.type, version=component.version,
                                       capabilities=["ACTOR"] if component.is_actor_state_store else [])
    resp.extended_metadata.update(extended)
    if config.app_port:
        props = resp.app_connection_properties
        props.port = config.app_port
        props.protocol = config.app_protocol
        props.channel_address = config.app_host
    resp.scheduler.connected_addresses.extend(scheduler_addresses)
    resp.enabled_features.extend(["SchedulerReminders"])
    return resp


def response_json(resp: metadata_pb2.GetMetadataResponse) -> dict[str, Any]:
    """daprd's HTTP shape: omitempty fields dropped, ``actorRuntime`` always present."""
    out: dict[str, Any] = {"id": resp.id, "runtimeVersion": resp.runtime_version}
    if resp.enabled_features:
        out["enabledFeatures"] = list(resp.enabled_features)
    actors = [{"type": a.type, "count": a.count} for a in resp.actor_runtime.active_actors]
    if actors:
        out["actors"] = actors
    if resp.registered_components:
        out["components"] = [
            {"name": c.name, "type": c.type, "version": c.version, **({"capabilities": list(c.capabilities)}
                                                                       if c.capabilities else {})}
            for c in resp.registered_components
        ]
    if resp.extended_metadata:
        out["extended"] = dict(resp.extended_metadata)
    if resp.subscriptions:
        out["subscriptions"] = [_subscription_json(s) for s in resp.subscriptions]
    if resp.HasField("app_connection_properties"):
        props = resp.app_connection_properties
        out["appConnectionProperties"] = {
            "port": props.port, "protocol": props.protocol, "channelAddress": props.channel_address,
        }
    runtime: dict[str, Any] = {
        "runtimeStatus": metadata_pb2.ActorRuntime.ActorRuntimeStatus.Name(resp.actor_runtime.runtime_status),
        "hostReady": resp.actor_runtime.host_ready,
    }
    if actors:
        runtime["activeActors"] = actors
    out["actorRuntime"] = runtime
    addresses = list(resp.scheduler.connected_addresses)
    out["scheduler"] = {"connected_addresses": addresses} if addresses else {}
    return out


def _subscription_json(sub: metadata_pb2.PubsubSubscription) -> dict[str, Any]:
    """daprd ``pkg/api/http/metadata.go``: rules with omitempty match/path, type by name."""
    out: dict[str, Any] = {"pubsubname": sub.pubsub_name, "topic": sub.topic}
    if sub.metadata:
        out["metadata"] = dict(sub.metadata)
    out["rules"] = [{k: v for k, v in (("match", r.match), ("path", r.path)) if v} for r in sub.rules.rules]
    out["deadLetterTopic"] = sub.dead_letter_topic
    out["type"] = metadata_pb2.PubsubSubscriptionType.Name(sub.type)
    return out

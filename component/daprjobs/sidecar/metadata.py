"""The sidecar's self-description: gRPC ``GetMetadataResponse`` and the ``GET /v1.0/metadata`` JSON.

Node SDK clients need a non-empty JSON body (HTTP) or an OK ``GetMetadata`` (gRPC) before they start.
The JSON keys follow daprd's ``metadataResponse`` struct (``pkg/api/http/metadata.go``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata as pkg_metadata
from typing import Any

from dapr.proto.runtime.v1 import metadata_pb2

from daprjobs.sidecar.config import ComponentResource


def runtime_version() -> str:
    try:
        return f"daprjobs-{pkg_metadata.version('daprjobs')}"
    except pkg_metadata.PackageNotFoundError:
        return "daprjobs-dev"


@dataclass
class MetadataSnapshot:
    """Everything the metadata answer is made of, gathered by the server at request time."""

    app_id: str
    app_port: int | None
    app_protocol: str
    app_host: str
    components: list[ComponentResource]
    scheduler_addresses: list[str]
    actor_runtime_present: bool
    actor_counts: dict[str, int]
    actor_host_ready: bool
    extended: dict[str, str] = field(default_factory=dict)


def build_response(snap: MetadataSnapshot) -> metadata_pb2.GetMetadataResponse:
    resp = metadata_pb2.GetMetadataResponse(id=snap.app_id, runtime_version=runtime_version())
    for kind, count in sorted(snap.actor_counts.items()):
        resp.actor_runtime.active_actors.add(type=kind, count=count)
        resp.active_actors_count.add(type=kind, count=count)
    resp.actor_runtime.runtime_status = (
        metadata_pb2.ActorRuntime.RUNNING if snap.actor_runtime_present else metadata_pb2.ActorRuntime.DISABLED
    )
    resp.actor_runtime.host_ready = snap.actor_host_ready
    for component in snap.components:
        resp.registered_components.add(name=component.name, type=component.type, version=component.version,
                                       capabilities=["ACTOR"] if component.is_actor_state_store else [])
    resp.extended_metadata.update(snap.extended)
    if snap.app_port:
        props = resp.app_connection_properties
        props.port = snap.app_port
        props.protocol = snap.app_protocol
        props.channel_address = snap.app_host
    resp.scheduler.connected_addresses.extend(snap.scheduler_addresses)
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

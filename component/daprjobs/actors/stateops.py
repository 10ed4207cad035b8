"""Actor state transactions as the SDKs send them (wire-compat §D.1), parsed without I/O.

HTTP: ``[{"operation":"upsert","request":{"key":"k","value":<json>,"metadata":{"ttlInSeconds":"N"}}},
{"operation":"delete","request":{"key":"k2"}}]``; the stored bytes are the value's JSON text (compacted).
gRPC: ``TransactionalActorStateOperation{operationType, key, value: Any(value=<bytes>), metadata}``; the
stored bytes are ``Any.value`` as given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from dapr.proto.runtime.v1 import actors_pb2

from daprjobs.actors import actor_errors
from daprjobs.actors.rawjson import RawJsonError, array_items, find_member, go_compact, object_members

TTL_METADATA_KEY = "ttlInSeconds"


@dataclass(frozen=True)
class StateOperation:
    kind: Literal["upsert", "delete"]
    key: str
    value: bytes = b""
    ttl_seconds: int | None = None  # None: no expiry


def _ttl(metadata: dict[str, str], key: str) -> int | None:
    raw = metadata.get(TTL_METADATA_KEY)
    if raw is None or raw == "":
        return None
    try:
        ttl = int(raw)
    except ValueError:
        raise actor_errors.state_transaction(
            f"incorrect value for metadata '{TTL_METADATA_KEY}' of key {key}: {raw!r} is not an integer"
        ) from None
    if ttl < -1:
        raise actor_errors.state_transaction(f"'{TTL_METADATA_KEY}' of key {key} must be -1 or greater, not {ttl}")
    return ttl if ttl > 0 else None


def _operation(kind: str, key: object, value: bytes, metadata: dict[str, str]) -> StateOperation:
    if not isinstance(key, str) or not key:
        raise actor_errors.malformed_request("each state operation needs a non-empty string key")
    lowered = kind.lower()
    if lowered == "upsert":
        return StateOperation("upsert", key, value, _ttl(metadata, key))
    if lowered == "delete":
        return StateOperation("delete", key)
    raise actor_errors.unsupported_state_operation(kind)


def parse_http_transaction(body: bytes) -> list[StateOperation]:
    """Raises ActorApiError (400 ERR_MALFORMED_REQUEST / ERR_NOT_SUPPORTED_STATE_OPERATION, 500 for a bad TTL)."""
    try:
        items = array_items(body)
        ops: list[StateOperation] = []
        for item in items:
            if not isinstance(item.value, dict):
                raise actor_errors.malformed_request("each state operation must be an object")
            members = object_members(item.raw.encode("utf-8")) or []
            kind = find_member(members, "operation")
            request = find_member(members, "request")
            if kind is None or not isinstance(kind.value, str):
                raise actor_errors.malformed_request("each state operation needs an 'operation' string")
            if request is None or not isinstance(request.value, dict):
                raise actor_errors.malformed_request("each state operation needs a 'request' object")
            request_members = object_members(request.raw.encode("utf-8")) or []
            key = find_member(request_members, "key")
            metadata_member = find_member(request_members, "metadata")
            metadata = metadata_member.value if metadata_member is not None and metadata_member.value else {}
            if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
                raise actor_errors.malformed_request("state operation metadata must map strings to strings")
            value_member = find_member(request_members, "value")
            value = go_compact(value_member.raw.encode("utf-8")) if value_member is not None else b"null"
            ops.append(_operation(kind.value, key.value if key is not None else None, value, metadata))
    except RawJsonError as err:
        raise actor_errors.malformed_request(str(err)) from err
    return ops


def ops_from_grpc(operations: Iterable[actors_pb2.TransactionalActorStateOperation]) -> list[StateOperation]:
    ops: list[StateOperation] = []
    for op in operations:
        value = op.value.value if op.HasField("value") else b""
        ops.append(_operation(op.operationType, op.key, value, dict(op.metadata)))
    return ops


def collapse(ops: list[StateOperation]) -> list[StateOperation]:
    """One operation per key, the last one winning: etcd refuses a transaction touching a key twice."""
    last: dict[str, StateOperation] = {}
    for op in ops:
        last.pop(op.key, None)
        last[op.key] = op
    return list(last.values())

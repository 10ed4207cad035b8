"""How ``state.etcd`` lays a value out in etcd, by component ``version`` (components-contrib ``state/etcd``).

- ``v2`` (the default): contrib's ``dapr.proto.components.state.v2.Value`` envelope — the data, the write time and
  the TTL — so daprd and daprjobs read each other's values.
- ``v1``: the bytes as they are.

Values written before daprjobs used the envelope (raw bytes under a ``v2`` component) still read back: bytes that
do not parse as an envelope are returned unchanged.
"""

from __future__ import annotations

import datetime

from google.protobuf import descriptor_pb2, descriptor_pool, duration_pb2, message, message_factory, timestamp_pb2

from daprjobs.components.state.ttl import expire_time_metadata


def _value_class() -> type[message.Message]:
    pool = descriptor_pool.DescriptorPool()
    for dependency in (timestamp_pb2, duration_pb2):
        proto = descriptor_pb2.FileDescriptorProto()
        dependency.DESCRIPTOR.CopyToProto(proto)
        pool.Add(proto)
    file = descriptor_pb2.FileDescriptorProto(
        name="daprjobs/state/etcd/v2/value.proto", package="dapr.proto.components.state.v2", syntax="proto3",
        dependency=["google/protobuf/timestamp.proto", "google/protobuf/duration.proto"])
    value = file.message_type.add(name="Value")
    label = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    value.field.add(name="data", number=1, label=label, type=descriptor_pb2.FieldDescriptorProto.TYPE_BYTES)
    value.field.add(name="ts", number=2, label=label, type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
                    type_name=".google.protobuf.Timestamp")
    value.field.add(name="ttl", number=3, label=label, type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
                    type_name=".google.protobuf.Duration")
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("dapr.proto.components.state.v2.Value"))


_Value = _value_class()


def encode(data: bytes, ttl_s: int | None, version: str = "v2") -> bytes:
    if version == "v1":
        return data
    value = _Value()
    value.data = data  # type: ignore[attr-defined]
    value.ts.FromDatetime(datetime.datetime.now(datetime.UTC))  # type: ignore[attr-defined]
    if ttl_s:
        value.ttl.FromSeconds(ttl_s)  # type: ignore[attr-defined]
    return value.SerializeToString()


def decode(stored: bytes, version: str = "v2") -> tuple[bytes, dict[str, str]]:
    """(data, response metadata: ``ttlExpireTime`` when the value has a TTL)."""
    if version == "v1":
        return stored, {}
    value = _Value()
    try:
        value.ParseFromString(stored)
    except message.DecodeError:
        return stored, {}
    if not value.HasField("ts"):  # not an envelope: a raw value
        return stored, {}
    metadata: dict[str, str] = {}
    if value.HasField("ttl") and value.ttl.seconds > 0:  # type: ignore[attr-defined]
        written = value.ts.ToMicroseconds() / 1e6  # type: ignore[attr-defined]
        metadata = expire_time_metadata(written + value.ttl.ToTimedelta().total_seconds())  # type: ignore[attr-defined]
    return bytes(value.data), metadata  # type: ignore[attr-defined]

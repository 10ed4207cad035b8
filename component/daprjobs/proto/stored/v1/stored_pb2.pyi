import datetime

from google.protobuf import any_pb2 as _any_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from dapr.proto.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserJob(_message.Message):
    __slots__ = ("schedule", "due_time", "ttl", "repeats", "metadata", "payload", "failure_policy")
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    REPEATS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    FAILURE_POLICY_FIELD_NUMBER: _ClassVar[int]
    schedule: str
    due_time: str
    ttl: str
    repeats: int
    metadata: _any_pb2.Any
    payload: _any_pb2.Any
    failure_policy: _common_pb2.JobFailurePolicy
    def __init__(self, schedule: _Optional[str] = ..., due_time: _Optional[str] = ..., ttl: _Optional[str] = ..., repeats: _Optional[int] = ..., metadata: _Optional[_Union[_any_pb2.Any, _Mapping]] = ..., payload: _Optional[_Union[_any_pb2.Any, _Mapping]] = ..., failure_policy: _Optional[_Union[_common_pb2.JobFailurePolicy, _Mapping]] = ...) -> None: ...

class StoredJob(_message.Message):
    __slots__ = ("partition_id", "start", "due_time", "expiration", "job")
    PARTITION_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    partition_id: int
    start: _timestamp_pb2.Timestamp
    due_time: _timestamp_pb2.Timestamp
    expiration: _timestamp_pb2.Timestamp
    job: UserJob
    def __init__(self, partition_id: _Optional[int] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expiration: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., job: _Optional[_Union[UserJob, _Mapping]] = ...) -> None: ...

class Counter(_message.Message):
    __slots__ = ("job_partition_id", "count", "last_trigger", "attempts")
    JOB_PARTITION_ID_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_TRIGGER_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    job_partition_id: int
    count: int
    last_trigger: _timestamp_pb2.Timestamp
    attempts: int
    def __init__(self, job_partition_id: _Optional[int] = ..., count: _Optional[int] = ..., last_trigger: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[int] = ...) -> None: ...

class Leadership(_message.Message):
    __slots__ = ("total", "uid", "replica_data", "view")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    REPLICA_DATA_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    total: int
    uid: int
    replica_data: _any_pb2.Any
    view: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, total: _Optional[int] = ..., uid: _Optional[int] = ..., replica_data: _Optional[_Union[_any_pb2.Any, _Mapping]] = ..., view: _Optional[_Iterable[str]] = ...) -> None: ...

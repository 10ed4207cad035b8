"""The scheduler's etcd records, built the way a scheduler stores a job scheduled through the Jobs API.

Used where the bench writes to etcd directly: the etcd ceilings (so raw etcd handles records of the real size) and
the scale scenario's bulk load (1,000,000 jobs through the API would take longer than the measurement itself).
The layout is the go-etcd-cron one the scheduler keeps (scheduler-internals §3.2): ``<prefix>/jobs/<composed name>``
holding a ``StoredJob`` whose ``job`` is the user's job with the default failure policy filled in, the Dapr
``JobMetadata`` as an ``Any`` in ``metadata`` and the user's data in ``payload``.
"""

from __future__ import annotations

import random

from dapr.proto.common.v1 import common_pb2
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.proto.stored.v1 import stored_pb2
from google.protobuf import any_pb2, duration_pb2, timestamp_pb2

from bench.duedata import rfc3339_ns

SEP = "||"
NS_PER_S = 1_000_000_000


def app_job_name(namespace: str, app_id: str, name: str) -> str:
    return SEP.join(("app", namespace, app_id, name))


def job_key(key_prefix: str, composed_name: str) -> bytes:
    return f"{key_prefix}/jobs/{composed_name}".encode()


def counter_key(key_prefix: str, composed_name: str) -> bytes:
    return f"{key_prefix}/counters/{composed_name}".encode()


def _timestamp(t_ns: int) -> timestamp_pb2.Timestamp:
    seconds, nanos = divmod(t_ns, NS_PER_S)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


def stored_app_job(namespace: str, app_id: str, due_ns: int, data: bytes, rng: random.Random | None = None) -> bytes:
    """The value the scheduler stores for a one-shot app job due at ``due_ns`` carrying SDK-style raw JSON data."""
    meta = scheduler_pb2.JobMetadata(app_id=app_id, namespace=namespace,
                                     target=scheduler_pb2.JobTargetMetadata(job=scheduler_pb2.TargetJob()))
    meta_any = any_pb2.Any()
    meta_any.Pack(meta)
    policy = common_pb2.JobFailurePolicy(
        constant=common_pb2.JobFailurePolicyConstant(interval=duration_pb2.Duration(seconds=1), max_retries=3)
    )
    user = stored_pb2.UserJob(due_time=rfc3339_ns(due_ns), metadata=meta_any,
                              payload=any_pb2.Any(type_url="", value=data), failure_policy=policy)
    partition_id = (rng or random).getrandbits(64)
    return stored_pb2.StoredJob(partition_id=partition_id, due_time=_timestamp(due_ns), job=user).SerializeToString()


def counter_record(partition_id: int, count: int, last_ns: int) -> bytes:
    """The counter value the scheduler writes after a successful tick."""
    return stored_pb2.Counter(job_partition_id=partition_id, count=count,
                              last_trigger=_timestamp(last_ns)).SerializeToString()

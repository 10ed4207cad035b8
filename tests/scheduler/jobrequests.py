"""Building Scheduler API requests the way daprd does, for the tests."""

from __future__ import annotations

import datetime
import time

import grpc
from dapr.proto.common.v1 import common_pb2
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from google.protobuf import any_pb2, duration_pb2, wrappers_pb2

NS = "default"


def app_meta(app_id: str, namespace: str = NS) -> scheduler_pb2.JobMetadata:
    return scheduler_pb2.JobMetadata(app_id=app_id, namespace=namespace,
                                     target=scheduler_pb2.JobTargetMetadata(job=scheduler_pb2.TargetJob()))


def actor_meta(app_id: str, actor_type: str, actor_id: str = "", namespace: str = NS) -> scheduler_pb2.JobMetadata:
    return scheduler_pb2.JobMetadata(app_id=app_id, namespace=namespace, target=scheduler_pb2.JobTargetMetadata(
        actor=scheduler_pb2.TargetActorReminder(type=actor_type, id=actor_id)))


def payload(text: str) -> any_pb2.Any:
    data = any_pb2.Any()
    data.Pack(wrappers_pb2.StringValue(value=text))
    return data


def rfc3339(ns: int) -> str:
    """An RFC 3339 instant with nanoseconds (as Go prints time.RFC3339Nano)."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    base = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{nanos:09d}Z"


def due_in(seconds: float) -> tuple[str, int]:
    """(RFC 3339 text, ns) of an instant ``seconds`` from now."""
    due_ns = time.time_ns() + int(seconds * 1e9)
    return rfc3339(due_ns), due_ns


def drop_policy() -> common_pb2.JobFailurePolicy:
    return common_pb2.JobFailurePolicy(drop=common_pb2.JobFailurePolicyDrop())


def constant_policy(interval_s: float, max_retries: int | None) -> common_pb2.JobFailurePolicy:
    interval = duration_pb2.Duration()
    interval.FromNanoseconds(int(interval_s * 1e9))
    constant = common_pb2.JobFailurePolicyConstant(interval=interval)
    if max_retries is not None:
        constant.max_retries = max_retries
    return common_pb2.JobFailurePolicy(constant=constant)


async def schedule(stub: scheduler_pb2_grpc.SchedulerStub, name: str, meta: scheduler_pb2.JobMetadata,
                   overwrite: bool = False, **job: object) -> None:
    await stub.ScheduleJob(scheduler_pb2.ScheduleJobRequest(name=name, job=scheduler_pb2.Job(**job),  # type: ignore[arg-type]
                                                            metadata=meta, overwrite=overwrite))


async def rpc_error(call: object) -> grpc.aio.AioRpcError:
    """Await a call that must fail; return its error."""
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as exc:
        return exc
    raise AssertionError("the call succeeded but should have failed")

"""Small pure pieces: Jobs API checks and mapping, backoff, health state, stream targets, outcomes."""

from __future__ import annotations

import random

import grpc
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import jobs_pb2
from daprjobs.core.backoff import Backoff
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.sidecar.apphealth import HealthState
from daprjobs.sidecar.jobs.api import from_scheduler_job, schedule_error, to_scheduler_job, validate_job
from daprjobs.sidecar.jobs.app_channel import JobCallOutcome, job_event_request, outcome_from_code
from daprjobs.sidecar.schedulerlink.trigger_stream import StreamTarget
from google.protobuf import any_pb2

META = {"appID": "a", "namespace": "default"}


def test_validation_order_and_presence() -> None:
    err = validate_job(None, META)
    assert err is not None and (err.message, err.reason) == ("Job is empty", "DAPR_SCHEDULER_EMPTY")
    err = validate_job(jobs_pb2.Job(name="", schedule="@every 1s"), META)
    assert err is not None and (err.message, err.reason) == ("Name is empty", "DAPR_SCHEDULER_JOB_NAME_EMPTY")
    err = validate_job(jobs_pb2.Job(name="x"), META)
    assert err is not None and (err.message, err.reason) == ("Schedule is empty", "DAPR_SCHEDULER_SCHEDULE_EMPTY")
    assert err.grpc_code == grpc.StatusCode.INVALID_ARGUMENT and err.http_status == 400
    # Presence, not emptiness: an empty-but-present schedule goes on to the scheduler.
    assert validate_job(jobs_pb2.Job(name="x", schedule=""), META) is None
    assert validate_job(jobs_pb2.Job(name="x", due_time="1s"), META) is None


def test_job_fields_round_trip_with_presence() -> None:
    job = jobs_pb2.Job(name="n", schedule="@every 1s", repeats=0, ttl="1h",
                       failure_policy=common_pb2.JobFailurePolicy(drop=common_pb2.JobFailurePolicyDrop()))
    job.data.CopyFrom(any_pb2.Any())
    sched = to_scheduler_job(job)
    assert sched.HasField("repeats") and sched.repeats == 0
    assert sched.HasField("data") and not sched.HasField("due_time")
    back = from_scheduler_job("n", sched)
    assert back == job


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


def test_schedule_errors_map_unknown_to_internal() -> None:
    err = schedule_error(FakeRpcError(grpc.StatusCode.UNKNOWN, "bad cron"), META)
    assert err.grpc_code == grpc.StatusCode.INTERNAL and err.http_status == 500
    assert err.message == "failed to schedule job due to: rpc error: code = Unknown desc = bad cron"
    err = schedule_error(FakeRpcError(grpc.StatusCode.ALREADY_EXISTS, "job already exists: 'k'"), META)
    assert err.grpc_code == grpc.StatusCode.ALREADY_EXISTS and err.http_status == 409


def test_backoff_grows_caps_and_resets() -> None:
    backoff = Backoff(base_s=0.5, factor=2.0, maximum_s=3.0, jitter=0.0, rng=random.Random(1))
    assert [backoff.next() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next() == 0.5
    jittery = Backoff(base_s=1.0, factor=1.0, maximum_s=1.0, jitter=0.5, rng=random.Random(7))
    delays = [jittery.next() for _ in range(50)]
    assert all(0.5 <= d <= 1.5 for d in delays) and len(set(delays)) > 1


def test_health_state_threshold() -> None:
    state = HealthState(threshold=2)
    assert state.observe(False) is None and not state.healthy
    assert state.observe(True) is True
    assert state.observe(False) is None and state.healthy
    assert state.observe(False) is False and not state.healthy
    assert state.observe(True) is True
    assert state.force_unhealthy() is False and state.force_unhealthy() is None


def test_stream_target_initial() -> None:
    init = StreamTarget(app=True, actor_types=("A", "B")).initial("app", "ns").initial
    assert (init.app_id, init.namespace, list(init.actor_types)) == ("app", "ns", ["A", "B"])
    assert list(init.accept_job_types) == [scheduler_pb2.JOB_TARGET_TYPE_JOB,
                                           scheduler_pb2.JOB_TARGET_TYPE_ACTOR_REMINDER]
    assert list(StreamTarget(app=True, actor_types=()).initial("a", "n").initial.accept_job_types) == [
        scheduler_pb2.JOB_TARGET_TYPE_JOB]
    assert not StreamTarget(app=False, actor_types=()).active


def test_trigger_outcomes() -> None:
    assert outcome_from_code(grpc.StatusCode.OK) is JobCallOutcome.SUCCESS
    assert outcome_from_code(grpc.StatusCode.NOT_FOUND) is JobCallOutcome.SUCCESS
    assert outcome_from_code(grpc.StatusCode.UNIMPLEMENTED) is JobCallOutcome.FAILED


def test_job_event_request_uses_type_url_as_content_type() -> None:
    data = any_pb2.Any(type_url="type.googleapis.com/google.protobuf.StringValue", value=b"\n\x02hi")
    req = job_event_request("backup", data)
    assert (req.name, req.method, req.content_type) == ("backup", "job/backup", data.type_url)
    assert req.data == data and req.http_extension.verb == common_pb2.HTTPExtension.Verb.POST
    assert not job_event_request("x", None).HasField("data")

"""go-etcd-cron's Builder.Parse (check order, texts, defaults, begin/expiration) and the stored-job decoder."""

from __future__ import annotations

import pytest
from dapr.proto.common.v1 import common_pb2
from daprjobs.core.cronschedule import EverySchedule
from daprjobs.core.cronspec import ScheduleError, parse_schedule
from daprjobs.core.jobspec import (
    DEFAULT_FAILURE_POLICY,
    FailurePolicy,
    JobValidationError,
    build_stored_job,
    failure_policy_from_proto,
    ns_to_timestamp,
    parse_stored,
    timestamp_to_ns,
)
from daprjobs.core.rfc3339 import parse_rfc3339
from daprjobs.core.timeunits import NS_PER_SECOND
from daprjobs.proto.stored.v1 import stored_pb2
from google.protobuf import any_pb2, duration_pb2, wrappers_pb2

S = NS_PER_SECOND
NOW = parse_rfc3339("2024-01-31T10:00:00.123456789Z")


def user(**kw: object) -> stored_pb2.UserJob:
    return stored_pb2.UserJob(**kw)  # type: ignore[arg-type]


def reason(job: stored_pb2.UserJob) -> str:
    with pytest.raises(JobValidationError) as info:
        build_stored_job(job, NOW, 7)
    assert str(info.value) == f"job failed validation: {info.value.reason}"
    return info.value.reason


# --- validation order and texts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        (user(), "job must have either a due time or a schedule"),
        (user(repeats=0, ttl="bad"), "job must have either a due time or a schedule"),
        (user(due_time="10s", repeats=2), "job must have a schedule to repeat"),
        (user(due_time="bad", repeats=2, ttl="1h"), "job must have a schedule to repeat"),
        (user(due_time="10s", repeats=0), "defined repeats must be greater than 0"),
        (user(schedule="@every 1s", repeats=0), "defined repeats must be greater than 0"),
        (user(schedule="nonsense", repeats=0), "defined repeats must be greater than 0"),
        (user(due_time="10s", ttl="1h"), "job must have a schedule to have a ttl"),
        (user(due_time="bad", ttl="1h"), "job must have a schedule to have a ttl"),
        (user(schedule="* * * * *"), "expected exactly 6 fields, found 5: [* * * * *]"),
        (user(schedule="* * * * *", due_time="bad"), "expected exactly 6 fields, found 5: [* * * * *]"),
        (user(schedule=""), "empty spec string"),
        (user(schedule="@every 1s", due_time="bad"), "due time format not recognized"),
        (user(schedule="@every 1s", due_time="bad", ttl="bad"), "due time format not recognized"),
        (user(due_time=""), "due time format not recognized"),
        (user(due_time="R2/PT1S"), "repeats not supported for due time"),
        (user(schedule="@every 1s", ttl="bad"), "ttl format not recognized"),
        (user(schedule="@every 1s", ttl="R2/PT1S"), "ttl format not recognized"),
        (user(schedule="@every 1s", ttl=""), "ttl format not recognized"),
        (user(schedule="@every 1s", due_time="10s", ttl="-1s"), "ttl must be greater than due time"),
        (
            user(schedule="@every 1s", due_time="2024-06-01T00:00:00Z", ttl="2024-05-31T23:59:59Z"),
            "ttl must be greater than due time",
        ),
    ],
)
def test_validation_order_and_texts(job: stored_pb2.UserJob, expected: str) -> None:
    assert reason(job) == expected


def test_one_repeat_without_schedule_is_allowed() -> None:
    stored = build_stored_job(user(due_time="10s", repeats=1), NOW, 1)
    assert stored.job.repeats == 1


def test_ttl_equal_to_due_time_is_allowed() -> None:
    stored = build_stored_job(user(schedule="@every 1s", due_time="10s", ttl="0s"), NOW, 1)
    assert timestamp_to_ns(stored.expiration) == timestamp_to_ns(stored.due_time) == NOW + 10 * S


def test_ttl_in_the_past_without_due_time_is_accepted() -> None:
    stored = build_stored_job(user(schedule="@every 1s", ttl="2000-01-01T00:00:00Z"), NOW, 1)
    assert timestamp_to_ns(stored.expiration) == parse_rfc3339("2000-01-01T00:00:00Z")


# --- the stored record ----------------------------------------------------------------------------------------------


def test_schedule_only_job_begins_at_start_now() -> None:
    payload = any_pb2.Any()
    payload.Pack(wrappers_pb2.StringValue(value="hi"))
    job = user(schedule="@every 5s", payload=payload)
    stored = build_stored_job(job, NOW, 42)
    assert stored.partition_id == 42
    assert stored.WhichOneof("begin") == "start"
    assert timestamp_to_ns(stored.start) == NOW  # nanosecond exact
    assert not stored.HasField("expiration")
    assert stored.job.schedule == "@every 5s"
    assert stored.job.payload == payload
    assert stored.job.failure_policy == DEFAULT_FAILURE_POLICY
    # The caller's job is left alone.
    assert not job.HasField("failure_policy")


def test_default_failure_policy_is_constant_1s_3_retries() -> None:
    assert DEFAULT_FAILURE_POLICY.WhichOneof("policy") == "constant"
    assert DEFAULT_FAILURE_POLICY.constant.interval == duration_pb2.Duration(seconds=1)
    assert DEFAULT_FAILURE_POLICY.constant.HasField("max_retries")
    assert DEFAULT_FAILURE_POLICY.constant.max_retries == 3


def test_given_failure_policy_is_kept() -> None:
    drop = common_pb2.JobFailurePolicy(drop=common_pb2.JobFailurePolicyDrop())
    stored = build_stored_job(user(due_time="1s", failure_policy=drop), NOW, 1)
    assert stored.job.failure_policy == drop
    forever = common_pb2.JobFailurePolicy(
        constant=common_pb2.JobFailurePolicyConstant(interval=duration_pb2.Duration(seconds=5))
    )
    stored = build_stored_job(user(due_time="1s", failure_policy=forever), NOW, 1)
    assert not stored.job.failure_policy.constant.HasField("max_retries")


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        ("10s", NOW + 10 * S),
        ("2024-02-01T00:00:00Z", parse_rfc3339("2024-02-01T00:00:00Z")),
        ("PT1M", NOW + 60 * S),
        ("P1M", parse_rfc3339("2024-03-02T10:00:00.123456789Z")),
        ("0h0m9s0ms0\u03bcs", NOW + 9 * S),
        ("-1h", NOW - 3600 * S),  # a past due time fires at once
    ],
)
def test_due_time_begin(due: str, expected: int) -> None:
    stored = build_stored_job(user(due_time=due), NOW, 1)
    assert stored.WhichOneof("begin") == "due_time"
    assert timestamp_to_ns(stored.due_time) == expected


def test_ttl_is_relative_to_due_time_when_there_is_one() -> None:
    stored = build_stored_job(user(schedule="@every 1s", due_time="1h", ttl="30m"), NOW, 1)
    assert timestamp_to_ns(stored.expiration) == NOW + 90 * 60 * S
    stored = build_stored_job(user(schedule="@every 1s", ttl="30m"), NOW, 1)
    assert timestamp_to_ns(stored.expiration) == NOW + 30 * 60 * S
    stored = build_stored_job(user(schedule="@every 1s", due_time="1h", ttl="2030-01-01T00:00:00Z"), NOW, 1)
    assert timestamp_to_ns(stored.expiration) == parse_rfc3339("2030-01-01T00:00:00Z")


def test_stored_job_round_trips_through_bytes() -> None:
    stored = build_stored_job(user(schedule="0 */5 * * * *", due_time="10s", ttl="1h", repeats=3), NOW, 2**64 - 1)
    back = stored_pb2.StoredJob.FromString(stored.SerializeToString())
    assert back == stored
    assert back.partition_id == 2**64 - 1


def test_timestamp_helpers_are_exact_for_negative_instants() -> None:
    for ns in (0, 1, -1, NOW, -NOW, 999_999_999, -1_000_000_001):
        ts = ns_to_timestamp(ns)
        assert 0 <= ts.nanos < NS_PER_SECOND
        assert timestamp_to_ns(ts) == ns


# --- decoding -------------------------------------------------------------------------------------------------------


def test_parse_stored_schedule_job() -> None:
    stored = build_stored_job(user(schedule="@every 5s", ttl="1h", repeats=4), NOW, 9)
    parsed = parse_stored(stored)
    assert parsed.schedule is parse_schedule("@every 5s")
    assert isinstance(parsed.schedule, EverySchedule)
    assert parsed.start_ns == NOW
    assert parsed.due_ns is None
    assert parsed.expiration_ns == NOW + 3600 * S
    assert parsed.repeats == 4
    assert parsed.policy == FailurePolicy("constant", interval_ns=S, max_retries=3)
    assert parsed.partition_id == 9


def test_parse_stored_one_shot() -> None:
    parsed = parse_stored(build_stored_job(user(due_time="10s"), NOW, 1))
    assert parsed.schedule is None
    assert parsed.due_ns == NOW + 10 * S
    assert parsed.start_ns is None
    assert parsed.expiration_ns is None
    assert parsed.repeats is None


def test_parse_stored_without_policy_is_none_kind() -> None:
    stored = build_stored_job(user(due_time="10s"), NOW, 1)
    stored.job.ClearField("failure_policy")
    assert parse_stored(stored).policy == FailurePolicy("none")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (None, FailurePolicy("none")),
        (common_pb2.JobFailurePolicy(), FailurePolicy("none")),
        (common_pb2.JobFailurePolicy(drop=common_pb2.JobFailurePolicyDrop()), FailurePolicy("drop")),
        (
            common_pb2.JobFailurePolicy(
                constant=common_pb2.JobFailurePolicyConstant(
                    interval=duration_pb2.Duration(seconds=2, nanos=500_000_000), max_retries=0
                )
            ),
            FailurePolicy("constant", interval_ns=2_500_000_000, max_retries=0),
        ),
        (
            common_pb2.JobFailurePolicy(constant=common_pb2.JobFailurePolicyConstant()),
            FailurePolicy("constant", interval_ns=0, max_retries=None),
        ),
    ],
)
def test_failure_policy_from_proto(policy: common_pb2.JobFailurePolicy | None, expected: FailurePolicy) -> None:
    assert failure_policy_from_proto(policy) == expected


def test_more_check_order() -> None:
    # repeats == 1 passes the "schedule to repeat" check, then the ttl check applies.
    assert reason(user(due_time="1s", repeats=1, ttl="1h")) == "job must have a schedule to have a ttl"
    # The schedule is parsed before due time and ttl.
    assert reason(user(schedule="@every 0s", due_time="x", ttl="y")) == "@every duration must be positive: @every 0s"
    assert reason(user(schedule="TZ=Nope * * * * * *")) == "provided bad location Nope: unknown time zone Nope"
    # The due time is parsed before the ttl.
    assert reason(user(schedule="@every 1s", due_time="x", ttl="-1h")) == "due time format not recognized"


def test_metadata_and_payload_are_stored_unchanged() -> None:
    meta = any_pb2.Any(type_url="type.googleapis.com/dapr.proto.scheduler.v1.JobMetadata", value=b"\x0a\x01a")
    payload = any_pb2.Any(type_url="type.googleapis.com/google.protobuf.BytesValue", value=b"\x0a\x02hi")
    stored = build_stored_job(user(due_time="1s", metadata=meta, payload=payload), NOW, 1)
    assert stored.job.metadata == meta
    assert stored.job.payload == payload


def test_parse_stored_with_a_schedule_that_no_longer_parses_raises() -> None:
    stored = build_stored_job(user(schedule="@every 1s"), NOW, 1)
    stored.job.schedule = "garbage"
    with pytest.raises(ScheduleError):
        parse_stored(stored)


def test_parse_stored_due_and_schedule() -> None:
    parsed = parse_stored(build_stored_job(user(schedule="@every 1s", due_time="5s"), NOW, 1))
    assert parsed.due_ns == NOW + 5 * S
    assert parsed.start_ns is None


def test_schedule_that_never_fires_is_refused() -> None:
    """Issue 13 defect 7: February 30th was accepted, then deleted silently; Feb 29th still fires."""
    assert reason(user(schedule="0 0 0 30 2 *")) == "schedule never fires: 0 0 0 30 2 *"
    assert build_stored_job(user(schedule="0 0 0 29 2 *"), NOW, 1).job.schedule == "0 0 0 29 2 *"


def test_every_below_the_minimum_interval_is_refused() -> None:
    """Issue 13 defect 7: ``@every 1ns`` flooded the app; the floor is 1 ms unless the scheduler says otherwise."""
    assert reason(user(schedule="@every 1ns")) == "@every interval is below the minimum of 1ms: @every 1ns"
    assert build_stored_job(user(schedule="@every 1ms"), NOW, 1).job.schedule == "@every 1ms"
    stored = build_stored_job(user(schedule="@every 1ns"), NOW, 1, min_interval_ns=1)
    assert stored.job.schedule == "@every 1ns"

"""Validating a user job into the stored record, and decoding a stored record for the engine.

``build_stored_job`` is go-etcd-cron's ``Builder.Parse``: the same checks in the same
order with the same texts (wrapped as ``job failed validation: <err>``), the default
failure policy written into the stored copy, and ``begin``/``expiration`` resolved to
absolute instants at creation. ``parse_stored`` turns a stored record into the small
immutable view the engine and the counter state machine work on; it runs for every job
loaded, so schedule parsing is cached.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from dapr.proto.common.v1 import common_pb2
from google.protobuf import duration_pb2, timestamp_pb2

from daprjobs.core.cronschedule import EverySchedule, Schedule
from daprjobs.core.cronspec import ScheduleError, parse_schedule
from daprjobs.core.timefields import TimeFormatError, parse_point_in_time
from daprjobs.core.timeunits import NS_PER_SECOND
from daprjobs.proto.stored.v1 import stored_pb2

__all__ = [
    "DEFAULT_FAILURE_POLICY",
    "FailurePolicy",
    "JobValidationError",
    "ParsedJob",
    "build_stored_job",
    "duration_to_ns",
    "failure_policy_from_proto",
    "ns_to_timestamp",
    "parse_stored",
    "timestamp_to_ns",
]


class JobValidationError(ValueError):
    """A job the scheduler refuses. ``str()`` is ``job failed validation: <reason>``; ``reason`` is the bare text."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"job failed validation: {reason}")
        self.reason = reason


def _default_failure_policy() -> common_pb2.JobFailurePolicy:
    return common_pb2.JobFailurePolicy(
        constant=common_pb2.JobFailurePolicyConstant(interval=duration_pb2.Duration(seconds=1), max_retries=3)
    )


# go-etcd-cron's default when a job carries no policy: retry every second, 3 retries (4 attempts in all).
# Treat as read-only; build_stored_job copies it.
DEFAULT_FAILURE_POLICY: common_pb2.JobFailurePolicy = _default_failure_policy()


def ns_to_timestamp(ns: int) -> timestamp_pb2.Timestamp:
    seconds, nanos = divmod(ns, NS_PER_SECOND)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


def timestamp_to_ns(ts: timestamp_pb2.Timestamp) -> int:
    return ts.seconds * NS_PER_SECOND + ts.nanos


def duration_to_ns(d: duration_pb2.Duration) -> int:
    # Duration keeps seconds and nanos with the same sign, so the sum is exact either way.
    return d.seconds * NS_PER_SECOND + d.nanos


# Deliberate difference from Dapr: an ``@every`` shorter than this is refused (Dapr takes ``@every 1ns`` and
# floods the app). The scheduler's ``--min-every-interval`` sets it.
MIN_EVERY_INTERVAL_NS = 1_000_000


def _check_schedule(spec: str, now_ns: int, min_interval_ns: int) -> None:
    try:
        schedule = parse_schedule(spec)
    except ScheduleError as exc:
        raise JobValidationError(str(exc)) from None
    if isinstance(schedule, EverySchedule) and schedule.delay_ns < min_interval_ns:
        raise JobValidationError(
            f"@every interval is below the minimum of {min_interval_ns / 1e6:g}ms: {spec}")
    if schedule.next(now_ns) is None:
        # Dapr accepts it and then deletes the job silently; say so at once instead.
        raise JobValidationError(f"schedule never fires: {spec}")


def build_stored_job(job: stored_pb2.UserJob, now_ns: int, partition_id: int,
                     min_interval_ns: int = MIN_EVERY_INTERVAL_NS) -> stored_pb2.StoredJob:
    """Validate ``job`` as go-etcd-cron does and build the record to store. ``job`` itself is not modified.

    Check order: due time or schedule present; no repeats > 1 without a schedule; repeats > 0 when set; no ttl
    without a schedule; the schedule parses; the due time parses; the ttl parses (relative to the due time when
    there is one, else to now) and is not before the due time. Raises JobValidationError.
    """
    has_schedule = job.HasField("schedule")
    has_due = job.HasField("due_time")
    has_repeats = job.HasField("repeats")
    if not has_due and not has_schedule:
        raise JobValidationError("job must have either a due time or a schedule")
    if not has_schedule and job.repeats > 1:
        raise JobValidationError("job must have a schedule to repeat")
    if has_repeats and job.repeats < 1:
        raise JobValidationError("defined repeats must be greater than 0")
    if not has_schedule and job.HasField("ttl"):
        raise JobValidationError("job must have a schedule to have a ttl")
    if has_schedule:
        _check_schedule(job.schedule, now_ns, min_interval_ns)

    user = stored_pb2.UserJob()
    user.CopyFrom(job)
    if not user.HasField("failure_policy"):
        user.failure_policy.CopyFrom(DEFAULT_FAILURE_POLICY)

    stored = stored_pb2.StoredJob(partition_id=partition_id, job=user)
    begin_ns = now_ns
    if has_due:
        try:
            begin_ns = parse_point_in_time(job.due_time, now_ns, "due time")
        except TimeFormatError as exc:
            raise JobValidationError(str(exc)) from None
        stored.due_time.CopyFrom(ns_to_timestamp(begin_ns))
    else:
        stored.start.CopyFrom(ns_to_timestamp(now_ns))

    if job.HasField("ttl"):
        try:
            expiration_ns = parse_point_in_time(job.ttl, begin_ns, "ttl")
        except TimeFormatError as exc:
            raise JobValidationError(str(exc)) from None
        if has_due and begin_ns > expiration_ns:
            raise JobValidationError("ttl must be greater than due time")
        stored.expiration.CopyFrom(ns_to_timestamp(expiration_ns))
    return stored


@dataclass(slots=True, frozen=True)
class FailurePolicy:
    """What to do when a trigger fails.

    ``drop``: give the tick up. ``constant``: retry every ``interval_ns``, at most ``max_retries`` times (None =
    forever). ``none``: a stored job without any policy (old data); go-etcd-cron treats it like drop.
    """

    kind: Literal["drop", "constant", "none"]
    interval_ns: int = 0
    max_retries: int | None = None


_DROP = FailurePolicy("drop")
_NONE = FailurePolicy("none")


def failure_policy_from_proto(p: common_pb2.JobFailurePolicy | None) -> FailurePolicy:
    if p is None:
        return _NONE
    kind = p.WhichOneof("policy")
    if kind == "drop":
        return _DROP
    if kind == "constant":
        c = p.constant
        return _constant_policy(duration_to_ns(c.interval), c.max_retries if c.HasField("max_retries") else None)
    return _NONE


@functools.lru_cache(maxsize=1024)
def _constant_policy(interval_ns: int, max_retries: int | None) -> FailurePolicy:
    # Almost every job carries the same few policies (the default above all): share one object per policy.
    return FailurePolicy("constant", interval_ns=interval_ns, max_retries=max_retries)


@dataclass(slots=True, frozen=True)
class ParsedJob:
    """The engine's decoded view of a stored job (all instants in ns).

    ``schedule`` is None for a one-shot job. Exactly one of ``due_ns`` (fires at that instant) and ``start_ns``
    (the schedule clock starts there; no fire at start) is set for valid records.
    """

    schedule: Schedule | None
    due_ns: int | None
    start_ns: int | None
    expiration_ns: int | None
    repeats: int | None
    policy: FailurePolicy
    partition_id: int = 0


def parse_stored(stored: stored_pb2.StoredJob) -> ParsedJob:
    """Decode a stored record. Raises ScheduleError if its schedule no longer parses (only for foreign data)."""
    job = stored.job
    schedule = parse_schedule(job.schedule) if job.HasField("schedule") else None
    begin = stored.WhichOneof("begin")
    return ParsedJob(
        schedule=schedule,
        due_ns=timestamp_to_ns(stored.due_time) if begin == "due_time" else None,
        start_ns=timestamp_to_ns(stored.start) if begin == "start" else None,
        expiration_ns=timestamp_to_ns(stored.expiration) if stored.HasField("expiration") else None,
        repeats=job.repeats if job.HasField("repeats") else None,
        policy=failure_policy_from_proto(job.failure_policy if job.HasField("failure_policy") else None),
        partition_id=stored.partition_id,
    )

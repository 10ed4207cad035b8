"""Driving the counter state machine from a stored job, for the counter tests."""

from __future__ import annotations

from dapr.proto.common.v1 import common_pb2
from daprjobs.core.counter import CounterState, due_at, on_failure, on_success
from daprjobs.core.jobspec import ParsedJob, build_stored_job, parse_stored
from daprjobs.core.rfc3339 import format_rfc3339, parse_rfc3339
from daprjobs.core.timeunits import NS_PER_SECOND
from daprjobs.proto.stored.v1 import stored_pb2
from google.protobuf import duration_pb2

S = NS_PER_SECOND
NOW = parse_rfc3339("2024-01-01T00:00:00Z")
DROP = common_pb2.JobFailurePolicy(drop=common_pb2.JobFailurePolicyDrop())


def constant(interval_s: float, max_retries: int | None) -> common_pb2.JobFailurePolicy:
    c = common_pb2.JobFailurePolicyConstant(interval=duration_pb2.Duration(nanos=0, seconds=0))
    c.interval.FromNanoseconds(int(interval_s * S))
    if max_retries is not None:
        c.max_retries = max_retries
    return common_pb2.JobFailurePolicy(constant=c)


def job(**kw: object) -> ParsedJob:
    return parse_stored(build_stored_job(stored_pb2.UserJob(**kw), NOW, 1))  # type: ignore[arg-type]


def run(j: ParsedJob, outcomes: str, st: CounterState | None = None) -> list[tuple[str, str]]:
    """Drive the state machine: each outcome letter is s(uccess) or f(ailure); returns (fire time, outcome)."""
    st = st or CounterState()
    log = []
    for o in outcomes:
        when = due_at(j, st)
        if when is None:
            log.append(("done", o))
            break
        log.append((format_rfc3339(when), o))
        st = on_success(j, st) if o == "s" else on_failure(j, st)
    return log


def t(s: str) -> str:
    return format_rfc3339(parse_rfc3339(s))

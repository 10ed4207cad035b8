"""The per-job counter state machine (go-etcd-cron's ``counter`` and ``Schedule.Next``), pure.

A job's progress is three numbers, stored next to the job as ``stored.Counter``: how many
ticks are done (``count``; given-up ticks count too), the *scheduled* time of the last
done tick (``last_trigger``), and the failed attempts at the current tick. Everything
else is derived from them and the job: the current tick, when to fire it, and whether
the job is finished. Because the next tick is computed from the last scheduled time,
never from "now", ticks missed during downtime fire back to back and the schedule never
drifts.

Deliberate difference from go-etcd-cron: when a cron spec has no match within five
years (e.g. ``0 0 0 30 2 *``), Go fires at the zero time; here the job is finished.
"""

from __future__ import annotations

from dataclasses import dataclass

from daprjobs.core.jobspec import ParsedJob, ns_to_timestamp, timestamp_to_ns
from daprjobs.proto.stored.v1 import stored_pb2

__all__ = ["CounterState", "due_at", "on_failure", "on_success", "scheduled_tick"]

_UINT32 = (1 << 32) - 1


@dataclass(slots=True)
class CounterState:
    count: int = 0
    last_trigger_ns: int | None = None
    attempts: int = 0

    @classmethod
    def from_proto(cls, c: stored_pb2.Counter) -> CounterState:
        """The state in a stored counter (the caller checks ``c.job_partition_id`` against the job's)."""
        return cls(
            count=c.count,
            last_trigger_ns=timestamp_to_ns(c.last_trigger) if c.HasField("last_trigger") else None,
            attempts=c.attempts,
        )

    def to_proto(self, partition_id: int) -> stored_pb2.Counter:
        # Both are uint32 on the wire; Go's counter wraps, and so does the stored copy here.
        c = stored_pb2.Counter(
            job_partition_id=partition_id, count=self.count & _UINT32, attempts=self.attempts & _UINT32
        )
        if self.last_trigger_ns is not None:
            c.last_trigger.CopyFrom(ns_to_timestamp(self.last_trigger_ns))
        return c


def _schedule_next(job: ParsedJob, count: int, last_ns: int | None) -> int | None:
    """go-etcd-cron's ``Schedule.Next(count, last)``: the scheduled time of tick number ``count``."""
    if job.schedule is None:
        # One-shot: the due time, once.
        return job.due_ns if count == 0 else None
    if job.repeats is not None and count >= job.repeats:
        return None
    if last_ns is None:
        if job.due_ns is not None:
            return job.due_ns
        if job.start_ns is None:
            return None
        # A schedule-only job does not fire at creation: first tick strictly after start.
        return job.schedule.next(job.start_ns)
    nxt = job.schedule.next(last_ns)
    if nxt is None or (job.expiration_ns is not None and nxt > job.expiration_ns):
        return None
    return nxt


def scheduled_tick(job: ParsedJob, st: CounterState) -> int | None:
    """The scheduled time of the current (not yet completed) tick; None when the job is finished
    (repeats reached, no further tick, or the tick lies after the expiration)."""
    if job.repeats is not None and st.count >= job.repeats:
        return None
    nxt = _schedule_next(job, st.count, st.last_trigger_ns)
    if nxt is None or (job.expiration_ns is not None and nxt > job.expiration_ns):
        return None
    return nxt


def due_at(job: ParsedJob, st: CounterState) -> int | None:
    """When to fire next: the current tick, pushed back by ``attempts * interval`` while a constant policy retries.

    go-etcd-cron adds the interval to the in-memory next time on each failure; deriving it from the persisted
    ``attempts`` gives the same time and also holds after a restart or failover.
    """
    tick = scheduled_tick(job, st)
    if tick is None:
        return None
    if st.attempts > 0 and job.policy.kind == "constant":
        return tick + st.attempts * job.policy.interval_ns
    return tick


def on_success(job: ParsedJob, st: CounterState) -> CounterState:
    """The state after the current tick was acknowledged."""
    tick = _schedule_next(job, st.count, st.last_trigger_ns)
    return CounterState(
        count=st.count + 1,
        last_trigger_ns=tick if tick is not None else st.last_trigger_ns,
        attempts=0,
    )


def on_failure(job: ParsedJob, st: CounterState) -> CounterState:
    """The state after the current tick failed.

    Constant policy: retry while ``max_retries`` is None (forever) or ``>= attempts`` (so the default 3 gives 4
    attempts in all); once exhausted, the tick is given up. Drop (and a stored job without a policy): the tick is
    given up at once. A given-up tick counts toward ``repeats`` and becomes ``last_trigger``; a one-shot job that
    gives up is thereby finished.
    """
    attempts = st.attempts + 1
    policy = job.policy
    if policy.kind == "constant" and (policy.max_retries is None or policy.max_retries >= attempts):
        return CounterState(count=st.count, last_trigger_ns=st.last_trigger_ns, attempts=attempts)
    tick = _schedule_next(job, st.count, st.last_trigger_ns)
    return CounterState(
        count=st.count + 1,
        last_trigger_ns=tick if tick is not None else st.last_trigger_ns,
        attempts=0,
    )

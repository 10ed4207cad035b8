"""The trigger engine: owned jobs, their counters, and the loop that fires them.

A job enters the engine when the informer reports it and the partition table
says this replica may trigger it. Its counter state comes from etcd once (at
activation) and then lives here; each trigger result updates it in memory and
queues one guarded etcd write (CounterWriter). A job is keyed by name but every
result is checked against the job *version* (etcd mod revision) it was sent
for, so a delete or overwrite during a trigger makes the late ack harmless.

    informer ──put/delete──▶ Engine ──due──▶ TriggerDispatcher ──▶ sidecar stream
                                ▲                                      │
                                └──────────── ack / stream death ◀─────┘
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import partial

from daprjobs.core import counter as counters
from daprjobs.core import names
from daprjobs.core.clock import Clock
from daprjobs.core.jobspec import ParsedJob, parse_stored
from daprjobs.core.partition import PartitionTable
from daprjobs.etcd.api import Store
from daprjobs.etcd.keyspace import Keyspace
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.proto.stored.v1 import stored_pb2
from daprjobs.scheduler.counterwriter import CounterWriter
from daprjobs.scheduler.dispatcher import RouteKey, TriggerDispatcher, TriggerResult
from daprjobs.scheduler.informer import JobRecord
from daprjobs.scheduler.metrics import SchedulerMetrics
from daprjobs.scheduler.triggerqueue import TriggerQueue

log = logging.getLogger(__name__)

# How long a replica giving jobs away waits for their in-flight triggers before it lets go regardless
# (the new owner then re-triggers the tick: at-least-once, never lost).
RELEASE_TIMEOUT_S = 10.0


class ActiveJob:
    """A job version this replica triggers, with its counter state."""

    # Kept small on purpose: a replica may hold a million of these (the user name and the trigger's metadata
    # are re-derived from record.value at trigger time instead of being stored).
    __slots__ = ("inflight", "name", "parsed", "queued_seq", "record", "released", "route", "state")

    def __init__(self, name: str, record: JobRecord, parsed: ParsedJob, state: counters.CounterState,
                 route: RouteKey) -> None:
        self.name = name
        self.record = record
        self.parsed = parsed
        self.state = state
        self.route = route
        self.queued_seq = 0
        self.inflight = False
        # Given to another replica while its trigger was in flight: the ack still updates the counter.
        self.released = False


# Counter states are replaced, never mutated, so every job that has not fired yet can share this one.
_FRESH = counters.CounterState()

# Above this many jobs gained at once, reading the whole counters prefix beats looking each one up.
_RANGE_COUNTERS_ABOVE = 2_000
# Triggers prepared per turn of the trigger loop.
_TRIGGER_BURST = 256
# Activation is CPU-bound; yield to the event loop this often so leases and the API keep being served.
_ACTIVATION_CHUNK = 2_000


def route_of(meta: scheduler_pb2.JobMetadata) -> RouteKey:
    if meta.target.WhichOneof("type") == "actor":
        return ("actor", meta.namespace, meta.target.actor.type)
    return ("app", meta.namespace, meta.app_id)


def decode_trigger_parts(value: bytes) -> tuple[stored_pb2.StoredJob, scheduler_pb2.JobMetadata]:
    stored = stored_pb2.StoredJob.FromString(value)
    # The scheduler itself packed this Any (always a JobMetadata); Any.Unpack's type-URL check costs more than
    # the parse, and this runs for every activation and every trigger.
    meta = scheduler_pb2.JobMetadata.FromString(stored.job.metadata.value)
    return stored, meta


class Engine:
    def __init__(self, store: Store, keys: Keyspace, clock: Clock, dispatcher: TriggerDispatcher,
                 writer: CounterWriter, metrics: SchedulerMetrics, replica_id: str,
                 max_inflight: int, index: Callable[[], dict[str, JobRecord]]) -> None:
        self._store = store
        self._keys = keys
        self._clock = clock
        self._dispatcher = dispatcher
        self._writer = writer
        self._metrics = metrics
        self._replica_id = replica_id
        self._max_inflight = max_inflight
        self._index = index
        self.table = PartitionTable.inactive()
        self.active: dict[str, ActiveJob] = {}
        self._queue: TriggerQueue[ActiveJob] = TriggerQueue()
        self._staged: dict[RouteKey, dict[str, ActiveJob]] = {}
        self._inflight = 0
        self._slot_free = asyncio.Event()
        self._activation = asyncio.Lock()
        # One shared tuple per route instead of one per job.
        self._routes: dict[RouteKey, RouteKey] = {}
        self._activation_task: asyncio.Task[None] | None = None
        # Job versions this replica finished (deleted) that the informer has not reported deleted yet: an index
        # snapshot taken before the delete must not bring them back.
        self._finished: dict[str, int] = {}
        dispatcher.on_route_available(self._release_staged)
        # Read at scrape time: jobs come and go with every put, delete and completion, not only on ownership changes.
        metrics.owned_jobs.set_function(lambda: len(self.active))

    # --- informer sink -------------------------------------------------------------------------------------

    def on_sync(self, index: dict[str, JobRecord]) -> None:
        # A resync (after a broken watch) brings new record objects for unchanged jobs: keep those active with
        # their in-memory counter, which may be ahead of etcd (writes still queued) and may have a trigger in
        # flight. Only versions that changed or vanished are dropped.
        for name in [n for n, job in self.active.items()
                     if (rec := index.get(n)) is None or rec.rev != job.record.rev]:
            self._drop(name)
        for name in [n for n, rev in self._finished.items() if (rec := index.get(n)) is None or rec.rev != rev]:
            del self._finished[name]
        # Counters read with the snapshot could predate this replica's own later writes (triggers go on while it is
        # read), so the jobs it adds are activated with counters read afresh, under the activation lock.
        if self._activation_task is None or self._activation_task.done():
            self._activation_task = asyncio.create_task(self._activate_after_sync(), name="activate-after-sync")

    async def _activate_after_sync(self) -> None:
        try:
            async with self._activation:
                activated = await self._activate_missing()
            if activated:
                log.info("jobs activated after index sync replica=%s jobs=%d", self._replica_id, activated)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The next ownership change or resync retries; until then these jobs wait (none is lost).
            log.exception("activating jobs after index sync failed replica=%s", self._replica_id)

    def on_put(self, name: str, record: JobRecord) -> None:
        self._finished.pop(name, None)
        if name in self.active:
            self._drop(name)
        if self.table.may_trigger(record.partition_id):
            # A put is a new incarnation (fresh partition id), so any stored counter is not its own.
            self._activate(name, record, None)

    def on_delete(self, name: str) -> None:
        self._finished.pop(name, None)
        if name in self.active:
            self._drop(name)

    # --- ownership -----------------------------------------------------------------------------------------

    async def apply_table(self, table: PartitionTable, settle_timeout_s: float = RELEASE_TIMEOUT_S) -> None:
        """Trigger exactly the jobs the new table allows; settle the ones given away first."""
        async with self._activation:
            self.table = table
            released = [job for job in self.active.values() if not table.may_trigger(job.record.partition_id)]
            for job in released:
                job.released = True
                self._drop(job.name)
            await self._settle(released, settle_timeout_s)
            gained = await self._activate_missing()
            if released or gained:
                log.info("ownership applied replica=%s released=%d gained=%d active_slots=%d", self._replica_id,
                         len(released), gained, table.active_count())

    async def _activate_missing(self) -> int:
        """Activate every indexed job the table allows that is not active yet, with counters read from etcd now
        (after this replica's own writes were flushed). Repeats while a resync replaces the index meanwhile."""
        attempted: set[str] = set()
        activated = 0
        while True:
            gained = [name for name, rec in self._index().items()
                      if name not in self.active and name not in attempted and self.table.may_trigger(rec.partition_id)]
            if not gained:
                return activated
            attempted.update(gained)
            stored = await self._read_counters(gained)
            # Activate the versions indexed now: the index may have been replaced while the counters were read.
            for i, name in enumerate(gained):
                if i and i % _ACTIVATION_CHUNK == 0:
                    await asyncio.sleep(0)
                rec = self._index().get(name)
                if rec is None or name in self.active or not self.table.may_trigger(rec.partition_id):
                    continue
                self._activate(name, rec, stored.get(name))
                activated += 1

    async def _read_counters(self, job_names: list[str]) -> dict[str, bytes]:
        if len(job_names) <= _RANGE_COUNTERS_ABOVE:
            found = await self._store.get_many([self._keys.counter(name) for name in job_names])
            return {self._keys.counter_name(key): kv.value for key, kv in found.items()}
        wanted = set(job_names)
        counters_by_name: dict[str, bytes] = {}
        async for _rev, kvs in self._store.range_prefix(self._keys.counters_prefix):
            for kv in kvs:
                name = self._keys.counter_name(kv.key)
                if name in wanted:
                    counters_by_name[name] = kv.value
        return counters_by_name

    async def stop_activation(self) -> None:
        """Abandon a background activation (a big sync can take seconds), so a stop need not wait for it."""
        task = self._activation_task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _settle(self, released: list[ActiveJob], timeout_s: float) -> None:
        """Wait for triggers of released jobs to be acked (or time out), then for their counter writes."""
        deadline = time.monotonic() + timeout_s
        # Rare (ownership changes only), so a short poll beats per-job completion events on the hot path.
        while any(job.inflight for job in released) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        await self._writer.flush()

    # --- activation ----------------------------------------------------------------------------------------

    def _activate(self, name: str, record: JobRecord, counter_value: bytes | None) -> None:
        if self._finished.get(name) == record.rev:
            return
        try:
            stored, meta = decode_trigger_parts(record.value)
            parsed = parse_stored(stored)
        except Exception:
            log.exception("cannot load stored job, skipping job=%s", name)
            return
        state = _FRESH
        if counter_value is not None:
            try:
                proto = stored_pb2.Counter.FromString(counter_value)
                if proto.job_partition_id == record.partition_id:
                    state = counters.CounterState.from_proto(proto)
            except Exception:
                log.exception("undecodable counter reset job=%s", name)
        route = route_of(meta)
        job = ActiveJob(name, record, parsed, state, self._routes.setdefault(route, route))
        self.active[name] = job
        self._schedule_next(job)

    def _schedule_next(self, job: ActiveJob) -> None:
        due = counters.due_at(job.parsed, job.state)
        if due is None:
            self.active.pop(job.name, None)
            self._finished[job.name] = job.record.rev
            self._writer.finish(job.name, job.record.rev)
            return
        self._queue.push(job, due)

    def _drop(self, name: str) -> None:
        job = self.active.pop(name, None)
        if job is None:
            return
        self._queue.discard(job)
        staged = self._staged.get(job.route)
        if staged is not None:
            staged.pop(name, None)

    # --- triggering ----------------------------------------------------------------------------------------

    async def run(self) -> None:
        wake = self._queue.wake
        while True:
            try:
                if self._inflight >= self._max_inflight:
                    self._slot_free.clear()
                    await self._slot_free.wait()
                now = self._clock.now_ns()
                # Small bursts, with a yield after each: the streams start sending the first triggers of a big
                # simultaneous batch while later ones are still being prepared.
                due = self._queue.pop_due(now, limit=max(1, min(_TRIGGER_BURST, self._max_inflight - self._inflight)))
                for scheduled_ns, job in due:
                    self._trigger(job, scheduled_ns)
                if due:
                    # Let acks and the counter writer run between bursts.
                    await asyncio.sleep(0)
                    continue
                wake.clear()
                next_due = self._queue.next_due()
                if next_due is None:
                    await wake.wait()
                else:
                    await self._clock.sleep_until(next_due, wake)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("trigger loop iteration failed")
                await asyncio.sleep(0.1)

    def _trigger(self, job: ActiveJob, scheduled_ns: int) -> None:
        if not self._dispatcher.has_route(job.route):
            self._stage(job)
            return
        try:
            stored, meta = decode_trigger_parts(job.record.value)
        except Exception:
            log.exception("cannot decode job for trigger job=%s", job.name)
            return
        prefix = names.prefix_from_metadata(meta)
        user_name = job.name[len(prefix):] if job.name.startswith(prefix) else job.name
        # The tick itself, not this attempt's time: retries and a new owner's re-fire carry the same trigger id.
        tick = counters.scheduled_tick(job.parsed, job.state)
        message = scheduler_pb2.WatchJobsResponse(name=user_name, data=stored.job.payload, metadata=meta,
                                                  daprjobs_scheduled_unix_ns=scheduled_ns if tick is None else tick)
        job.inflight = True
        self._inflight += 1
        callback = partial(self._on_result, job, job.record.rev, scheduled_ns)
        if not self._dispatcher.send(job.route, message, callback):
            callback(TriggerResult.UNDELIVERABLE)

    def _on_result(self, job: ActiveJob, rev: int, scheduled_ns: int, result: TriggerResult) -> None:
        if job.inflight:
            job.inflight = False
            self._inflight -= 1
            if self._inflight < self._max_inflight:
                self._slot_free.set()
        if (self.active.get(job.name) is not job or job.record.rev != rev) and not job.released:
            log.debug("late result ignored, job changed or deleted during its trigger job=%s", job.name)
            return
        if result is TriggerResult.UNDELIVERABLE:
            if job.released:
                return
            # Nothing was acked, so the counter is untouched: another stream of the route gets the same
            # tick now, or the job waits until one connects.
            self._metrics.jobs_undelivered.inc()
            if self._dispatcher.has_route(job.route):
                self._queue.push(job, scheduled_ns)
            else:
                self._stage(job)
            return
        if result is TriggerResult.SUCCESS:
            self._metrics.jobs_triggered.inc()
            self._metrics.trigger_latency_ms.observe(max(0, self._clock.now_ns() - scheduled_ns) / 1e6)
            job.state = counters.on_success(job.parsed, job.state)
        else:
            self._metrics.jobs_failed.inc()
            log.info("job trigger failed job=%s attempts=%d", job.name, job.state.attempts + 1)
            job.state = counters.on_failure(job.parsed, job.state)
        due = counters.due_at(job.parsed, job.state)
        if due is None:
            if self.active.get(job.name) is job:
                del self.active[job.name]
            self._finished[job.name] = rev
            self._writer.finish(job.name, rev)
            return
        self._writer.put_counter(job.name, rev, job.state.to_proto(job.record.partition_id).SerializeToString())
        if not job.released:
            self._queue.push(job, due)

    # --- staging: jobs with no stream to go to -------------------------------------------------------------

    def _stage(self, job: ActiveJob) -> None:
        self._staged.setdefault(job.route, {})[job.name] = job

    def _release_staged(self, route: RouteKey) -> None:
        staged = self._staged.pop(route, None)
        if not staged:
            return
        now = self._clock.now_ns()
        for job in staged.values():
            if self.active.get(job.name) is job and not job.inflight:
                due = counters.due_at(job.parsed, job.state)
                self._queue.push(job, due if due is not None else now)
        log.info("stream connected, releasing staged jobs route=%s jobs=%d", "/".join(route), len(staged))

    def staged_count(self) -> int:
        return sum(len(s) for s in self._staged.values())

    def queued_count(self) -> int:
        return len(self._queue)


"""The Scheduler gRPC service (dapr.proto.scheduler.v1.Scheduler), as Dapr's sidecars call it.

Every replica serves the unary API straight from etcd; there is no leader for
it. WatchJobs streams register with the TriggerDispatcher; WatchHosts streams
follow membership.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from typing import NoReturn

import grpc

from daprjobs.core import names
from daprjobs.core.clock import Clock
from daprjobs.core.jobfields import copy_job_fields
from daprjobs.core.jobspec import MIN_EVERY_INTERVAL_NS, JobValidationError, build_stored_job
from daprjobs.etcd.api import Store, op_delete, prefix_end
from daprjobs.etcd.keyspace import Keyspace
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.proto.stored.v1 import stored_pb2
from daprjobs.scheduler.dispatcher import RouteKey, TriggerDispatcher
from daprjobs.scheduler.jobwriter import JobWriter
from daprjobs.scheduler.metrics import SchedulerMetrics
from daprjobs.scheduler.ownership import HostList
from daprjobs.scheduler.store_errors import answers_store_failures
from daprjobs.scheduler.watch_batching import BATCH_HEADER, requested_batch, results_in, take_batch

log = logging.getLogger(__name__)

MISSING_IDENTITY = "missing namespace or appID in request"


class SchedulerService(scheduler_pb2_grpc.SchedulerServicer):
    def __init__(self, store: Store, keys: Keyspace, clock: Clock, dispatcher: TriggerDispatcher,
                 metrics: SchedulerMetrics, hosts: HostList, ready: asyncio.Event, max_job_bytes: int,
                 writer: JobWriter, *, min_every_interval_ns: int = MIN_EVERY_INTERVAL_NS) -> None:
        self._store = store
        self._keys = keys
        self._clock = clock
        self._dispatcher = dispatcher
        self._metrics = metrics
        self._hosts = hosts
        self._ready = ready
        self._max_job_bytes = max_job_bytes
        self._writer = writer
        self._min_every_interval_ns = min_every_interval_ns

    # --- unary ---------------------------------------------------------------------------------------------

    @answers_store_failures("schedule job")
    async def ScheduleJob(self, request: scheduler_pb2.ScheduleJobRequest,
                          context: grpc.aio.ServicerContext) -> scheduler_pb2.ScheduleJobResponse:
        meta = request.metadata
        await _require_identity(meta, context)
        full = await _compose(meta, request.name, context)
        try:
            names.validate_job_name(full)
        except names.InvalidJobName as exc:
            self._metrics.jobs_created_failed.inc()
            await _fail(context, grpc.StatusCode.UNKNOWN, str(exc))
        user_job = stored_pb2.UserJob()
        copy_job_fields(request.job, user_job, dst_data="payload")
        user_job.metadata.Pack(meta)
        try:
            stored = build_stored_job(user_job, self._clock.now_ns(), random.getrandbits(64),
                                      self._min_every_interval_ns)
        except JobValidationError as exc:
            self._metrics.jobs_created_failed.inc()
            log.info("job refused job=%s reason=%s", full, exc)
            await _fail(context, grpc.StatusCode.UNKNOWN, str(exc))
        value = stored.SerializeToString()
        if len(value) > self._max_job_bytes:
            self._metrics.jobs_created_failed.inc()
            await _fail(context, grpc.StatusCode.RESOURCE_EXHAUSTED,
                                f"job {full!r} is {len(value)} bytes, over the limit of {self._max_job_bytes}")
        if not await self._writer.write(self._keys.job(full), value, request.overwrite):
            self._metrics.jobs_created_failed.inc()
            await _fail(context, grpc.StatusCode.ALREADY_EXISTS, f"job already exists: '{full}'")
        kind = "actor" if meta.target.WhichOneof("type") == "actor" else "job"
        self._metrics.created(kind).inc()
        log.debug("job scheduled job=%s overwrite=%s", full, request.overwrite)
        return scheduler_pb2.ScheduleJobResponse()

    @answers_store_failures("get job")
    async def GetJob(self, request: scheduler_pb2.GetJobRequest,
                     context: grpc.aio.ServicerContext) -> scheduler_pb2.GetJobResponse:
        await _require_identity(request.metadata, context)
        full = await _compose(request.metadata, request.name, context)
        await _validate_name(full, context)
        kv = await self._store.get(self._keys.job(full))
        if kv is None:
            await _fail(context, grpc.StatusCode.NOT_FOUND, f"job not found: {request.name}")
        stored = stored_pb2.StoredJob.FromString(kv.value)
        return scheduler_pb2.GetJobResponse(job=_api_job(stored))

    @answers_store_failures("delete job")
    async def DeleteJob(self, request: scheduler_pb2.DeleteJobRequest,
                        context: grpc.aio.ServicerContext) -> scheduler_pb2.DeleteJobResponse:
        await _require_identity(request.metadata, context)
        full = await _compose(request.metadata, request.name, context)
        await _validate_name(full, context)
        await self._store.txn([], [op_delete(self._keys.job(full)), op_delete(self._keys.counter(full))])
        self._metrics.jobs_deleted.inc()
        return scheduler_pb2.DeleteJobResponse()

    @answers_store_failures("list jobs")
    async def ListJobs(self, request: scheduler_pb2.ListJobsRequest,
                       context: grpc.aio.ServicerContext) -> scheduler_pb2.ListJobsResponse:
        meta = request.metadata
        await _require_identity(meta, context)
        listing = await _key(meta, False, context)
        jobs = []
        async for _rev, kvs in self._store.range_prefix(self._keys.job(listing)):
            for kv in kvs:
                full = self._keys.job_name(kv.key)
                try:
                    stored = stored_pb2.StoredJob.FromString(kv.value)
                    job_meta = scheduler_pb2.JobMetadata()
                    stored.job.metadata.Unpack(job_meta)
                except Exception as exc:
                    await _fail(context, grpc.StatusCode.UNKNOWN, f"failed to decode job {full!r}: {exc}")
                user = names.user_name(full, job_meta)
                if user is None:
                    await _fail(context, grpc.StatusCode.UNKNOWN,
                                        f"job key {full!r} does not match its metadata prefix")
                jobs.append(scheduler_pb2.NamedJob(name=user, metadata=job_meta, job=_api_job(stored)))
        return scheduler_pb2.ListJobsResponse(jobs=jobs)

    @answers_store_failures("delete jobs by prefix")
    async def DeleteByNamePrefix(self, request: scheduler_pb2.DeleteByNamePrefixRequest,
                                 context: grpc.aio.ServicerContext) -> scheduler_pb2.DeleteByNamePrefixResponse:
        meta = request.metadata
        await _require_identity(meta, context)
        prefix = await _key(meta, False, context) + request.name_prefix
        if request.name_prefix:
            try:
                names.validate_name_prefix(prefix)
            except names.InvalidJobName as exc:
                # go-etcd-cron's plain error, which gRPC clients see as Unknown.
                await _fail(context, grpc.StatusCode.UNKNOWN, str(exc))
        await self._delete_prefix(prefix)
        return scheduler_pb2.DeleteByNamePrefixResponse()

    @answers_store_failures("delete jobs by metadata")
    async def DeleteByMetadata(self, request: scheduler_pb2.DeleteByMetadataRequest,
                               context: grpc.aio.ServicerContext) -> scheduler_pb2.DeleteByMetadataResponse:
        meta = request.metadata
        await _require_identity(meta, context)
        # id_prefix_match leaves the trailing separator off, so every actor id starting with the id matches.
        prefix = await _key(meta, bool(request.id_prefix_match), context)
        await self._delete_prefix(prefix)
        return scheduler_pb2.DeleteByMetadataResponse()

    async def _delete_prefix(self, name_prefix: str) -> None:
        jobs = self._keys.job(name_prefix)
        counters = self._keys.counter(name_prefix)
        await self._store.txn([], [op_delete(jobs, prefix_end(jobs)), op_delete(counters, prefix_end(counters))])
        self._metrics.jobs_bulk_deleted.inc()

    # --- streams -------------------------------------------------------------------------------------------

    async def WatchJobs(self, request_iterator: AsyncIterator[scheduler_pb2.WatchJobsRequest],
                        context: grpc.aio.ServicerContext) -> AsyncIterator[scheduler_pb2.WatchJobsResponse]:
        first = await anext(aiter(request_iterator), None)
        if first is None or first.WhichOneof("watch_job_request_type") != "initial":
            await _fail(context, grpc.StatusCode.INVALID_ARGUMENT, "initial request is required on stream connection")
        initial = first.initial
        if not initial.namespace or not initial.app_id:
            await _fail(context, grpc.StatusCode.INVALID_ARGUMENT, MISSING_IDENTITY)
        seen: set[int] = set()
        for t in initial.accept_job_types:
            if t in seen:
                await _fail(context, grpc.StatusCode.INVALID_ARGUMENT,
                                    f"duplicate target type specified: {scheduler_pb2.JobTargetType.Name(t)}")
            seen.add(t)
        routes: list[RouteKey] = []
        if not seen or scheduler_pb2.JOB_TARGET_TYPE_JOB in seen:
            routes.append(("app", initial.namespace, initial.app_id))
        if not seen or scheduler_pb2.JOB_TARGET_TYPE_ACTOR_REMINDER in seen:
            routes.extend(("actor", initial.namespace, t) for t in dict.fromkeys(initial.actor_types))
        await self._ready.wait()
        # A daprjobs sidecar may ask for batched messages (watch_batching); daprd does not and gets Dapr's protocol.
        batch = requested_batch(context.invocation_metadata())
        if batch > 1:
            await context.send_initial_metadata(((BATCH_HEADER, str(batch)),))
        stream = self._dispatcher.new_stream(initial.app_id, initial.namespace, routes)
        self._dispatcher.register(stream)
        self._metrics.sidecars_connected.set(self._dispatcher.connected_streams())
        log.info("sidecar stream connected app_id=%s namespace=%s actor_types=%s stream=%d batch=%d", initial.app_id,
                 initial.namespace, ",".join(initial.actor_types), stream.stream_id, batch)

        async def read_acks() -> None:
            try:
                async for req in request_iterator:
                    for result in results_in(req):
                        self._dispatcher.ack(stream, result.id, result.status)
            except (asyncio.CancelledError, grpc.aio.AioRpcError):
                pass
            except Exception:
                log.exception("reading acks failed stream=%d", stream.stream_id)
            finally:
                self._dispatcher.unregister(stream)

        reader = asyncio.create_task(read_acks())
        try:
            while True:
                message = await stream.outbox.get()
                if message is None:
                    return
                message, ended = take_batch(stream.outbox, message, batch)
                yield message
                if ended:
                    return
        finally:
            reader.cancel()
            self._dispatcher.unregister(stream)
            self._metrics.sidecars_connected.set(self._dispatcher.connected_streams())
            log.info("sidecar stream closed app_id=%s stream=%d", initial.app_id, stream.stream_id)

    async def WatchHosts(self, request: scheduler_pb2.WatchHostsRequest,
                         context: grpc.aio.ServicerContext) -> AsyncIterator[scheduler_pb2.WatchHostsResponse]:
        await self._ready.wait()
        last: list[str] | None = None
        while True:
            changed = self._hosts.change_event()
            hosts = self._hosts.addresses
            if hosts != last:
                last = hosts
                yield scheduler_pb2.WatchHostsResponse(hosts=[scheduler_pb2.Host(address=h) for h in hosts])
            await changed.wait()


async def _fail(context: grpc.aio.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    await context.abort(code, message)
    raise AssertionError("context.abort returned")


async def _require_identity(meta: scheduler_pb2.JobMetadata, context: grpc.aio.ServicerContext) -> None:
    if not meta.namespace or not meta.app_id:
        await _fail(context, grpc.StatusCode.INVALID_ARGUMENT, MISSING_IDENTITY)


async def _compose(meta: scheduler_pb2.JobMetadata, name: str, context: grpc.aio.ServicerContext) -> str:
    try:
        return names.full_name(name, meta)
    except names.UnknownJobTarget as exc:
        await _fail(context, grpc.StatusCode.UNKNOWN, f"failed to parse metadata: {exc}")


async def _validate_name(full: str, context: grpc.aio.ServicerContext) -> None:
    """go-etcd-cron checks the name on Get and Delete too; its error reaches clients as Unknown."""
    try:
        names.validate_job_name(full)
    except names.InvalidJobName as exc:
        await _fail(context, grpc.StatusCode.UNKNOWN, str(exc))


async def _key(meta: scheduler_pb2.JobMetadata, as_prefix: bool, context: grpc.aio.ServicerContext) -> str:
    try:
        return names.key_from_metadata(meta, as_prefix=as_prefix)
    except names.UnknownJobTarget as exc:
        await _fail(context, grpc.StatusCode.UNKNOWN, f"failed to parse metadata: {exc}")


def _api_job(stored: stored_pb2.StoredJob) -> scheduler_pb2.Job:
    job = scheduler_pb2.Job()
    copy_job_fields(stored.job, job, src_data="payload")
    return job


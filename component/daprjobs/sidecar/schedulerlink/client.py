"""The sidecar's connection to the Scheduler (daprd ``pkg/runtime/scheduler``).

- **Hosts**: a ``WatchHosts`` stream to one configured address gives the replica list; each update
  replaces the unary clients (one channel per host, used round-robin) and the job streams. If the
  server lacks WatchHosts (UNIMPLEMENTED) the configured list is used as is.
- **Unary calls** wait (up to 30 s, as daprd) for a host, use ``wait_for_ready``, and move to the next
  host when the Scheduler answers CANCELLED/UNAVAILABLE (a replica shutting down).
- **Job streams**: ``streams_per_host`` WatchJobs streams to *every* host (a replica delivers only over
  streams opened to it), open only while the app target is on (the app answers) or actor types exist.
  Each stream reconnects on its own with backoff and jitter, forever, on a fresh channel: a scheduler
  restart costs a few seconds of delay and nothing else (dapr/dapr#10337 is the failure mode avoided).
- **Triggers**: each ``WatchJobsResponse`` runs the trigger handler in its own task; the handler's status
  is acked on the same stream (writes serialized). A ``None`` status is not acked: the stream is about to
  close, and the Scheduler re-stages whatever a closed stream left unacked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc

from daprjobs.core.backoff import Backoff
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc

log = logging.getLogger(__name__)

AckStatus = scheduler_pb2.WatchJobsRequestResultStatus
TriggerHandler = Callable[[scheduler_pb2.WatchJobsResponse], Awaitable[AckStatus | None]]
_Resp = TypeVar("_Resp")

_CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
    # grpc's own reconnect backoff grows to minutes by default; keep it close to daprd's (max 3 s).
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.min_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 3000),
    # daprd's keepalive (3 s / 5 s): a scheduler that vanishes without closing its sockets is noticed quickly.
    ("grpc.keepalive_time_ms", 3000),
    ("grpc.keepalive_timeout_ms", 5000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]
_RETRYABLE_UNARY = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
# A stream that stayed up this long was healthy: the next failure starts backing off from the base again.
_STREAM_HEALTHY_AFTER_S = 10.0


def _error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


@dataclass(frozen=True)
class StreamTarget:
    """What the WatchJobs ``initial`` message asks for."""

    app: bool
    actor_types: tuple[str, ...]

    @property
    def active(self) -> bool:
        return self.app or bool(self.actor_types)

    def initial(self, app_id: str, namespace: str) -> scheduler_pb2.WatchJobsRequest:
        accept: list[scheduler_pb2.JobTargetType] = []
        if self.app:
            accept.append(scheduler_pb2.JOB_TARGET_TYPE_JOB)
        if self.actor_types:
            accept.append(scheduler_pb2.JOB_TARGET_TYPE_ACTOR_REMINDER)
        return scheduler_pb2.WatchJobsRequest(
            initial=scheduler_pb2.WatchJobsRequestInitial(
                app_id=app_id, namespace=namespace, actor_types=list(self.actor_types), accept_job_types=accept
            )
        )


class _JobStream:
    """One WatchJobs stream to one host, reconnecting until cancelled."""

    def __init__(self, client: SchedulerClient, host: str, index: int, target: StreamTarget) -> None:
        self._client = client
        self.host = host
        self.index = index
        self.target = target
        self.connected = False
        self.backoff = Backoff(base_s=0.5, factor=1.5, maximum_s=2.0, jitter=0.25, rng=client.rng)
        self.handlers: set[asyncio.Task[None]] = set()
        self.task: asyncio.Task[None] = asyncio.create_task(self._run(), name=f"watchjobs-{host}-{index}")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self._connect_once()
                log.info("scheduler job stream ended by server host=%s stream=%d", self.host, self.index)
            except asyncio.CancelledError:
                raise
            except grpc.aio.AioRpcError as err:
                log.info("scheduler job stream failed host=%s stream=%d code=%s details=%s",
                         self.host, self.index, err.code().name, err.details())
            except Exception:
                log.exception("scheduler job stream failed host=%s stream=%d", self.host, self.index)
            finally:
                self.connected = False
            if loop.time() - started > _STREAM_HEALTHY_AFTER_S:
                self.backoff.reset()
            await asyncio.sleep(self.backoff.next())

    async def _connect_once(self) -> None:
        channel = grpc.aio.insecure_channel(self.host, options=_CHANNEL_OPTIONS)
        call: Any = None
        try:
            stub = scheduler_pb2_grpc.SchedulerStub(channel)
            call = stub.WatchJobs()
            write_lock = asyncio.Lock()
            await call.write(self.target.initial(self._client.app_id, self._client.namespace))
            self.connected = True
            log.debug("scheduler job stream connected host=%s stream=%d app=%s actor_types=%s",
                     self.host, self.index, self.target.app, ",".join(self.target.actor_types))
            while True:
                trigger = await call.read()
                if trigger is grpc.aio.EOF:
                    return
                task = asyncio.create_task(self._handle(call, write_lock, trigger))
                self.handlers.add(task)
                task.add_done_callback(self.handlers.discard)
        finally:
            self.connected = False
            if call is not None:
                call.cancel()
            await channel.close(grace=None)

    async def _handle(self, call: Any, write_lock: asyncio.Lock, trigger: scheduler_pb2.WatchJobsResponse) -> None:
        status = await self._client.run_handler(trigger)
        if status is None:
            return
        ack = scheduler_pb2.WatchJobsRequest(result=scheduler_pb2.WatchJobsRequestResult(id=trigger.id, status=status))
        try:
            async with write_lock:
                await call.write(ack)
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError, grpc.aio.UsageError) as err:
            # The stream died: the Scheduler resolves the unacked trigger as undeliverable and re-stages it.
            log.info("could not ack trigger, stream closed name=%s id=%d error=%s", trigger.name, trigger.id, err)

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class SchedulerClient:
    """Unary Scheduler calls plus the WatchHosts and WatchJobs loops of one sidecar."""

    def __init__(
        self,
        addresses: Iterable[str],
        app_id: str,
        namespace: str,
        *,
        streams_per_host: int = 3,
        handler: TriggerHandler | None = None,
        rpc_timeout_s: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self.addresses = [a.strip() for a in addresses if a.strip()]
        self.app_id = app_id
        self.namespace = namespace
        self.streams_per_host = streams_per_host
        self.rpc_timeout_s = rpc_timeout_s
        self.rng = rng or random.Random()
        self._handler = handler
        self._hosts: tuple[str, ...] = ()
        self._hosts_known = asyncio.Event()
        self._unary: dict[str, tuple[grpc.aio.Channel, scheduler_pb2_grpc.SchedulerStub]] = {}
        self._next = 0
        self._app_target = False
        self._actor_types: tuple[str, ...] = ()
        self._streams: dict[str, list[_JobStream]] = {}
        self._stream_target = StreamTarget(app=False, actor_types=())
        self._reconcile = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: set[asyncio.Task[None]] = set()
        self._stopping = False

    # ----- lifecycle -----

    async def start(self) -> None:
        if not self.addresses:
            log.warning("no --scheduler-host-address: the Jobs API and job delivery are disabled")
            return
        self._tasks.append(asyncio.create_task(self._watch_hosts_loop(), name="scheduler-watchhosts"))
        self._tasks.append(asyncio.create_task(self._connector_loop(), name="scheduler-connector"))

    async def stop(self, handler_grace_s: float = 5.0) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        handlers = [h for streams in self._streams.values() for s in streams for h in s.handlers]
        await self._close_streams(list(self._streams))
        if handlers:
            await asyncio.wait(handlers, timeout=handler_grace_s)
        for channel, _ in self._unary.values():
            await channel.close(grace=None)
        self._unary.clear()

    def set_trigger_handler(self, handler: TriggerHandler) -> None:
        self._handler = handler

    # ----- what the streams should carry (synchronous: they only record the wish) -----

    def set_app_target(self, on: bool) -> None:
        """The app answers (``True``) or not: job streams carry app jobs only while it does."""
        if on != self._app_target:
            self._app_target = on
            self._reconcile.set()

    def set_actor_types(self, types: list[str]) -> None:
        """(Re)open the job streams with these actor types (sorted, de-duplicated; unchanged = no-op)."""
        normalized = tuple(sorted(set(types)))
        if normalized != self._actor_types:
            self._actor_types = normalized
            self._reconcile.set()

    @property
    def app_target(self) -> bool:
        return self._app_target

    @property
    def actor_types(self) -> list[str]:
        return list(self._actor_types)

    @property
    def hosts(self) -> list[str]:
        return list(self._hosts)

    @property
    def connected_addresses(self) -> list[str]:
        """Hosts with at least one open job stream."""
        return sorted(h for h, streams in self._streams.items() if any(s.connected for s in streams))

    def connected_stream_count(self) -> int:
        return sum(1 for streams in self._streams.values() for s in streams if s.connected)

    async def run_handler(self, trigger: scheduler_pb2.WatchJobsResponse) -> AckStatus | None:
        if self._handler is None:
            log.error("trigger received but no handler is set name=%s", trigger.name)
            return scheduler_pb2.FAILED
        try:
            return await self._handler(trigger)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("trigger handler failed name=%s", trigger.name)
            return scheduler_pb2.FAILED

    # ----- hosts -----

    async def _watch_hosts_loop(self) -> None:
        backoff = Backoff(base_s=1.0, factor=1.0, maximum_s=1.0, jitter=0.5, rng=self.rng)
        while True:
            address = self.rng.choice(self.addresses)
            channel = grpc.aio.insecure_channel(address, options=_CHANNEL_OPTIONS)
            try:
                stub = scheduler_pb2_grpc.SchedulerStub(channel)
                call = stub.WatchHosts(scheduler_pb2.WatchHostsRequest())
                async for response in call:
                    hosts = sorted({h.address for h in response.hosts if h.address})
                    if hosts:
                        self._apply_hosts(hosts)
                    else:
                        log.info("scheduler reported no hosts yet address=%s", address)
                log.info("scheduler WatchHosts stream ended address=%s", address)
            except asyncio.CancelledError:
                raise
            except grpc.aio.AioRpcError as err:
                if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                    log.info("scheduler has no WatchHosts, using the configured addresses=%s", self.addresses)
                    self._apply_hosts(sorted(set(self.addresses)))
                    await asyncio.Event().wait()
                log.info("scheduler WatchHosts failed address=%s code=%s details=%s",
                         address, err.code().name, err.details())
            except Exception:
                log.exception("scheduler WatchHosts failed address=%s", address)
            finally:
                await channel.close(grace=None)
            await asyncio.sleep(backoff.next())

    def _apply_hosts(self, hosts: list[str]) -> None:
        new = tuple(hosts)
        if new == self._hosts:
            return  # rebuilding would abort in-flight triggers for nothing
        log.info("scheduler hosts changed hosts=%s", ",".join(new))
        for gone in set(self._unary) - set(new):
            channel, _ = self._unary.pop(gone)
            closing = asyncio.get_running_loop().create_task(channel.close(grace=5.0))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
        for host in new:
            if host not in self._unary:
                channel = grpc.aio.insecure_channel(host, options=_CHANNEL_OPTIONS)
                self._unary[host] = (channel, scheduler_pb2_grpc.SchedulerStub(channel))
        self._hosts = new
        self._hosts_known.set()
        self._reconcile.set()

    # ----- streams -----

    async def _connector_loop(self) -> None:
        while True:
            await self._reconcile.wait()
            self._reconcile.clear()
            try:
                await self._reconcile_streams()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("failed to reconcile scheduler job streams")

    async def _reconcile_streams(self) -> None:
        target = StreamTarget(app=self._app_target, actor_types=self._actor_types)
        hosts = set(self._hosts) if target.active else set()
        had_streams = bool(self._streams)
        if target != self._stream_target:
            # A new initial message: every stream is reopened (as daprd does).
            await self._close_streams(list(self._streams))
            self._stream_target = target
        else:
            await self._close_streams([h for h in self._streams if h not in hosts])
        for host in sorted(hosts - set(self._streams)):
            self._streams[host] = [_JobStream(self, host, i, target) for i in range(self.streams_per_host)]
        if self._streams:
            log.info("opening scheduler job streams hosts=%s streams_per_host=%d app=%s actor_types=%s",
                     ",".join(sorted(self._streams)), self.streams_per_host, target.app, ",".join(target.actor_types))
        elif had_streams:
            log.info("scheduler job streams closed (the app does not answer and no actor types are registered)")

    async def _close_streams(self, hosts: list[str]) -> None:
        streams = [s for h in hosts for s in self._streams.pop(h, [])]
        await asyncio.gather(*(s.close() for s in streams))

    # ----- unary Scheduler API -----

    async def _call(self, method: str, request: Any) -> Any:
        if not self.addresses:
            raise _error(grpc.StatusCode.UNAVAILABLE, "scheduler is not configured (set --scheduler-host-address)")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.rpc_timeout_s
        retry = Backoff(base_s=0.25, factor=1.0, maximum_s=0.25, jitter=0.5, rng=self.rng)
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise _error(grpc.StatusCode.DEADLINE_EXCEEDED, "timed out waiting for a scheduler host")
            if not self._hosts:
                try:
                    await asyncio.wait_for(self._hosts_known.wait(), timeout=remaining)
                except TimeoutError:
                    raise _error(grpc.StatusCode.DEADLINE_EXCEEDED, "no scheduler host is available") from None
                continue
            host = self._hosts[self._next % len(self._hosts)]
            self._next += 1
            entry = self._unary.get(host)
            if entry is None:
                continue
            try:
                return await getattr(entry[1], method)(request, timeout=remaining, wait_for_ready=True)
            except grpc.aio.AioRpcError as err:
                if err.code() not in _RETRYABLE_UNARY or self._stopping or deadline - loop.time() < 0.5:
                    raise
                log.info("scheduler call retried method=%s host=%s code=%s", method, host, err.code().name)
            except grpc.aio.UsageError:
                pass  # the channel was closed by a host change: take the next one
            await asyncio.sleep(retry.next())

    async def schedule_job(
        self, name: str, job: scheduler_pb2.Job, metadata: scheduler_pb2.JobMetadata, overwrite: bool
    ) -> scheduler_pb2.ScheduleJobResponse:
        request = scheduler_pb2.ScheduleJobRequest(name=name, job=job, metadata=metadata, overwrite=overwrite)
        resp: scheduler_pb2.ScheduleJobResponse = await self._call("ScheduleJob", request)
        return resp

    async def get_job(self, name: str, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.GetJobResponse:
        resp: scheduler_pb2.GetJobResponse = await self._call(
            "GetJob", scheduler_pb2.GetJobRequest(name=name, metadata=metadata)
        )
        return resp

    async def delete_job(self, name: str, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.DeleteJobResponse:
        resp: scheduler_pb2.DeleteJobResponse = await self._call(
            "DeleteJob", scheduler_pb2.DeleteJobRequest(name=name, metadata=metadata)
        )
        return resp

    async def list_jobs(self, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.ListJobsResponse:
        resp: scheduler_pb2.ListJobsResponse = await self._call(
            "ListJobs", scheduler_pb2.ListJobsRequest(metadata=metadata)
        )
        return resp

    async def delete_by_metadata(
        self, metadata: scheduler_pb2.JobMetadata, id_prefix_match: bool | None = None
    ) -> scheduler_pb2.DeleteByMetadataResponse:
        request = scheduler_pb2.DeleteByMetadataRequest(metadata=metadata)
        if id_prefix_match is not None:
            request.id_prefix_match = id_prefix_match
        resp: scheduler_pb2.DeleteByMetadataResponse = await self._call("DeleteByMetadata", request)
        return resp

    async def delete_by_name_prefix(
        self, prefix: str, metadata: scheduler_pb2.JobMetadata
    ) -> scheduler_pb2.DeleteByNamePrefixResponse:
        resp: scheduler_pb2.DeleteByNamePrefixResponse = await self._call(
            "DeleteByNamePrefix", scheduler_pb2.DeleteByNamePrefixRequest(name_prefix=prefix, metadata=metadata)
        )
        return resp

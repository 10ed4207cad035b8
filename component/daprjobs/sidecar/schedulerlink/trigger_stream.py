"""One ``WatchJobs`` stream to one Scheduler host: read triggers, run the handler, send the acks.

One reader reads triggers and starts a handler task for each; each handler hands its ack to the transport,
which sends it without a lock (``TriggerChannel.ack``). The reader takes a slot of the sidecar's trigger gate
before it reads: with the gate full it stops reading, so triggers wait in the Scheduler (still in flight on
this stream, re-staged if it dies) instead of piling up as tasks in front of the app. A ``None`` status is not
acked: the stream is about to close, and the Scheduler re-stages whatever a closed stream left unacked. The
stream reconnects with backoff and jitter, forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc

from daprjobs.core.backoff import Backoff
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.sidecar.block import AckStatus
from daprjobs.sidecar.schedulerlink.transport import TriggerChannel, TriggerTransport

log = logging.getLogger(__name__)

TriggerHandler = Callable[[scheduler_pb2.WatchJobsResponse], Awaitable[AckStatus | None]]
# A stream that stayed up this long was healthy: the next failure starts backing off from the base again.
STREAM_HEALTHY_AFTER_S = 10.0


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


@dataclass(frozen=True)
class StreamIdentity:
    host: str
    index: int
    app_id: str
    namespace: str


class TriggerStream:
    """One WatchJobs stream, reconnecting until closed; ``handler`` turns a trigger into an ack status.

    ``gate`` bounds the triggers this sidecar holds at once, over all its streams."""

    def __init__(self, identity: StreamIdentity, target: StreamTarget, handler: TriggerHandler,
                 transport: TriggerTransport, gate: asyncio.Semaphore, rng: random.Random) -> None:
        self.identity = identity
        self.target = target
        self._handler = handler
        self._transport = transport
        self._gate = gate
        self.connected = False
        self.backoff = Backoff(base_s=0.5, factor=1.5, maximum_s=2.0, jitter=0.25, rng=rng)
        self.handlers: set[asyncio.Task[None]] = set()
        self.task: asyncio.Task[None] = asyncio.create_task(
            self._run(), name=f"watchjobs-{identity.host}-{identity.index}")

    @property
    def host(self) -> str:
        return self.identity.host

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        ident = self.identity
        while True:
            started = loop.time()
            try:
                await self._connect_once()
                log.info("scheduler job stream ended by server host=%s stream=%d", ident.host, ident.index)
            except asyncio.CancelledError:
                raise
            except grpc.aio.AioRpcError as err:
                log.info("scheduler job stream failed host=%s stream=%d code=%s details=%s",
                         ident.host, ident.index, err.code().name, err.details())
            except Exception:
                log.exception("scheduler job stream failed host=%s stream=%d", ident.host, ident.index)
            finally:
                self.connected = False
            if loop.time() - started > STREAM_HEALTHY_AFTER_S:
                self.backoff.reset()
            await asyncio.sleep(self.backoff.next())

    async def _connect_once(self) -> None:
        channel = await self._transport.open(self.target.initial(self.identity.app_id, self.identity.namespace))
        gate = self._gate
        try:
            self.connected = True
            while True:
                await gate.acquire()
                try:
                    trigger = await channel.read()
                except BaseException:
                    gate.release()
                    raise
                if trigger is None:
                    gate.release()
                    return
                task = asyncio.create_task(self._handle(channel, trigger))
                self.handlers.add(task)
                task.add_done_callback(self.handlers.discard)
        finally:
            self.connected = False
            await channel.close()

    async def _handle(self, channel: TriggerChannel, trigger: scheduler_pb2.WatchJobsResponse) -> None:
        try:
            status = await self._handler(trigger)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("trigger handler failed name=%s", trigger.name)
            status = scheduler_pb2.FAILED
        finally:
            self._gate.release()
        if status is not None:
            channel.ack(trigger.id, status)

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

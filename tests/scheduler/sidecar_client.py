"""A test client that acts as a sidecar towards the scheduler: WatchJobs streams, acks, and a record of triggers.

Like daprd, it can follow WatchHosts and keep one WatchJobs stream per live replica. Every trigger it receives is
recorded with its receive time and the replica it came through; what it answers is decided per trigger by an
``ack`` policy (SUCCESS, FAILED, or None to hold the trigger unacked until the test acks it by hand).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field

import grpc
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc

SUCCESS = scheduler_pb2.SUCCESS
FAILED = scheduler_pb2.FAILED

# Decides the answer to one trigger: a status to ack at once, or None to leave it in flight.
AckPolicy = Callable[["Trigger"], "int | None"]


def always_succeed(_trigger: Trigger) -> int | None:
    return SUCCESS


@dataclass
class Trigger:
    name: str
    id: int
    metadata: scheduler_pb2.JobMetadata
    data: bytes
    received_ns: int
    address: str
    stream: WatchStream = field(repr=False)

    @property
    def job_key(self) -> tuple[str, str]:
        """(route, name): actor reminders carry their actor id, so reminder names are keyed per actor."""
        meta = self.metadata
        if meta.target.WhichOneof("type") == "actor":
            return (f"actor/{meta.target.actor.type}/{meta.target.actor.id}", self.name)
        return (f"app/{meta.app_id}", self.name)


class WatchStream:
    """One WatchJobs stream to one replica."""

    _numbers = itertools.count(1)

    def __init__(self, client: SidecarClient, address: str) -> None:
        self.client = client
        self.address = address
        self.number = next(self._numbers)
        self._channel = grpc.aio.insecure_channel(address)
        self._outbox: asyncio.Queue[scheduler_pb2.WatchJobsRequest | None] = asyncio.Queue()
        self._call: grpc.aio.StreamStreamCall | None = None
        self._reader: asyncio.Task[None] | None = None
        self.error: grpc.aio.AioRpcError | None = None
        self.ended = asyncio.Event()
        self.received: list[Trigger] = []

    async def open(self, initial: scheduler_pb2.WatchJobsRequest | None = None) -> None:
        stub = scheduler_pb2_grpc.SchedulerStub(self._channel)
        self._outbox.put_nowait(initial if initial is not None else self.client.initial_request())
        self._call = stub.WatchJobs(self._requests())
        self._reader = asyncio.create_task(self._read(), name=f"watch-{self.address}-{self.number}")

    async def _requests(self) -> AsyncIterator[scheduler_pb2.WatchJobsRequest]:
        while True:
            item = await self._outbox.get()
            if item is None:
                return
            yield item

    async def _read(self) -> None:
        assert self._call is not None
        try:
            async for resp in self._call:
                trigger = Trigger(resp.name, resp.id, resp.metadata, resp.data.SerializeToString(), time.time_ns(),
                                  self.address, self)
                self.received.append(trigger)
                self.client._record(trigger)
                status = self.client.ack_policy(trigger)
                if status is not None:
                    self.ack(trigger.id, status)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self.error = exc
        except asyncio.CancelledError:
            pass
        finally:
            self.ended.set()

    def ack(self, trigger_id: int, status: int = SUCCESS) -> None:
        result = scheduler_pb2.WatchJobsRequestResult(id=trigger_id, status=status)  # type: ignore[arg-type]
        self.send(scheduler_pb2.WatchJobsRequest(result=result))

    def send(self, request: scheduler_pb2.WatchJobsRequest) -> None:
        self._outbox.put_nowait(request)

    async def wait_error(self, timeout: float = 10.0) -> grpc.aio.AioRpcError | None:
        await asyncio.wait_for(self.ended.wait(), timeout)
        return self.error

    async def close(self) -> None:
        """Cancel the stream as a dying sidecar would (the server sees its triggers in flight as undeliverable)."""
        if self._call is not None:
            self._call.cancel()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._outbox.put_nowait(None)
        await self._channel.close()
        self.client._forget(self)


class SidecarClient:
    """A fake sidecar for one app id (and optionally actor types)."""

    def __init__(self, app_id: str, namespace: str = "default", actor_types: Iterable[str] = (),
                 accept_job_types: Iterable[int] = (), ack_policy: AckPolicy = always_succeed) -> None:
        self.app_id = app_id
        self.namespace = namespace
        self.actor_types = list(actor_types)
        self.accept_job_types = list(accept_job_types)
        self.ack_policy = ack_policy
        self.triggers: list[Trigger] = []
        self.streams: list[WatchStream] = []
        self._new_trigger = asyncio.Event()
        self._host_follower: asyncio.Task[None] | None = None
        self.hosts_seen: list[list[str]] = []

    def initial_request(self) -> scheduler_pb2.WatchJobsRequest:
        return scheduler_pb2.WatchJobsRequest(initial=scheduler_pb2.WatchJobsRequestInitial(
            app_id=self.app_id, namespace=self.namespace, actor_types=self.actor_types,
            accept_job_types=self.accept_job_types))  # type: ignore[arg-type]

    async def connect(self, address: str) -> WatchStream:
        stream = WatchStream(self, address)
        self.streams.append(stream)
        await stream.open()
        return stream

    async def follow_hosts(self, address: str) -> None:
        """Keep one stream per replica that WatchHosts (asked of ``address``) reports, as daprd does."""
        first = asyncio.Event()

        async def follow() -> None:
            async with grpc.aio.insecure_channel(address) as channel:
                stub = scheduler_pb2_grpc.SchedulerStub(channel)
                async for resp in stub.WatchHosts(scheduler_pb2.WatchHostsRequest()):
                    hosts = [h.address for h in resp.hosts]
                    self.hosts_seen.append(hosts)
                    for stream in [s for s in self.streams if s.address not in hosts]:
                        await stream.close()
                    connected = {s.address for s in self.streams}
                    for host in hosts:
                        if host not in connected:
                            await self.connect(host)
                    first.set()

        self._host_follower = asyncio.create_task(follow(), name=f"hosts-{self.app_id}")
        waiter = asyncio.create_task(first.wait())
        done, _ = await asyncio.wait({waiter, self._host_follower}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
            if self._host_follower in done:
                self._host_follower.result()
            raise TimeoutError(f"no WatchHosts answer from {address}")

    def _record(self, trigger: Trigger) -> None:
        self.triggers.append(trigger)
        self._new_trigger.set()

    def _forget(self, stream: WatchStream) -> None:
        if stream in self.streams:
            self.streams.remove(stream)

    def of(self, name: str) -> list[Trigger]:
        return [t for t in self.triggers if t.name == name]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.triggers:
            out[t.name] = out.get(t.name, 0) + 1
        return out

    async def close(self) -> None:
        if self._host_follower is not None:
            self._host_follower.cancel()
            with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
                await self._host_follower
        for stream in list(self.streams):
            await stream.close()


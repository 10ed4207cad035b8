"""Trigger streams over Dapr's Scheduler gRPC API (``WatchJobs``), one fresh channel per stream.

Acks go on a queue that one writer task drains, so handlers never contend on a lock to write (a lock per ack
cost ~25% of the sidecar's CPU per trigger). Every stream asks for batches (``scheduler/watch_batching.py``): a
daprjobs scheduler may then send many triggers per message and take many acks per message; Dapr's scheduler
ignores the header and the stream is Dapr's protocol, one trigger and one ack per message.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from typing import Any

import grpc

from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.scheduler.watch_batching import BATCH_HEADER, requested_batch
from daprjobs.security.link import PLAINTEXT, SchedulerLinkSecurity
from daprjobs.sidecar.block import AckStatus
from daprjobs.sidecar.schedulerlink.channels import scheduler_channel

log = logging.getLogger(__name__)

# Triggers per message this sidecar asks for (the scheduler sends fewer when fewer are waiting).
ASKED_BATCH = 64


class GrpcTriggerChannel:
    def __init__(self, host: str, channel: grpc.aio.Channel, call: Any) -> None:
        self._host = host
        self._channel = channel
        self._call = call
        self._acks: asyncio.Queue[scheduler_pb2.WatchJobsRequestResult] = asyncio.Queue()
        # Triggers of a batch message not handed out yet (read() returns one at a time).
        self._unread: collections.deque[scheduler_pb2.WatchJobsResponse] = collections.deque()
        self._writer = asyncio.create_task(self._write_acks(), name=f"acks-{host}")

    async def read(self) -> scheduler_pb2.WatchJobsResponse | None:
        if self._unread:
            return self._unread.popleft()
        message = await self._call.read()
        if message is grpc.aio.EOF:
            return None
        response: scheduler_pb2.WatchJobsResponse = message
        if response.daprjobs_batch:
            self._unread.extend(response.daprjobs_batch)
            return self._unread.popleft()
        return response

    def ack(self, trigger_id: int, status: AckStatus) -> None:
        self._acks.put_nowait(scheduler_pb2.WatchJobsRequestResult(id=trigger_id, status=status))

    async def _ack_batch_limit(self) -> int:
        """Acks per message: what the scheduler confirmed in its response headers (1: Dapr's protocol). The
        headers precede the first trigger, so this never waits longer than the first ack does anyway."""
        try:
            return requested_batch(await self._call.initial_metadata())
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError, grpc.aio.UsageError):
            return 1

    async def _write_acks(self) -> None:
        limit = 0
        while True:
            first = await self._acks.get()
            if not limit:
                limit = await self._ack_batch_limit()
            results = [first]
            while len(results) < limit and not self._acks.empty():
                results.append(self._acks.get_nowait())
            request = (scheduler_pb2.WatchJobsRequest(result=first) if len(results) == 1
                       else scheduler_pb2.WatchJobsRequest(daprjobs_results=results))
            try:
                await self._call.write(request)
            except (grpc.aio.AioRpcError, asyncio.InvalidStateError, grpc.aio.UsageError) as err:
                # The stream died: the Scheduler resolves unacked triggers as undeliverable and re-stages them.
                log.info("could not ack triggers, stream closed host=%s acks=%d error=%s", self._host, len(results),
                         err)
                return

    async def close(self) -> None:
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        self._call.cancel()
        await self._channel.close(grace=None)


class GrpcTriggerTransport:
    def __init__(self, host: str, security: SchedulerLinkSecurity = PLAINTEXT, batch: int = ASKED_BATCH) -> None:
        self.host = host
        self._security = security
        self._metadata = ((BATCH_HEADER, str(batch)),) if batch > 1 else ()

    async def open(self, initial: scheduler_pb2.WatchJobsRequest) -> GrpcTriggerChannel:
        channel = scheduler_channel(self.host, self._security)
        try:
            call = scheduler_pb2_grpc.SchedulerStub(channel).WatchJobs(metadata=self._metadata)
            await call.write(initial)
        except BaseException:
            await channel.close(grace=None)
            raise
        return GrpcTriggerChannel(self.host, channel, call)

"""The trigger path with nothing but its gRPC plumbing: a ceiling for what Python gRPC allows per trigger here.

A trigger costs the real system three gRPC messages besides the app call's own work: the scheduler's
``WatchJobsResponse`` on a stream, the sidecar's unary ``OnJobEventAlpha1`` into the app, and the sidecar's ack on the
stream. This app plays either end doing nothing else:

- ``--mode scheduler``: serves ``Scheduler/WatchJobs``; once ``--streams`` streams have sent their initial message,
  sends ``--count`` triggers round-robin over them (at most ``--max-inflight`` unacked, like the real scheduler),
  each carrying ``bench.duedata`` with the instant sending began, and counts the acks;
- ``--mode sidecar``: opens ``--streams`` WatchJobs streams to ``--scheduler`` and for each trigger calls the app's
  ``OnJobEventAlpha1`` (at most ``--max-inflight`` at once, like the real sidecar), then acks SUCCESS.

The trigger scenario runs the same SDK app behind this pair: its triggers/s is the most the plumbing passes.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import grpc
from dapr.proto.runtime.v1 import appcallback_pb2_grpc
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc

from bench.duedata import DueData
from bench.loadgen.app_feed import job_event

STREAMS_CONNECTED = "trigger-hops: streams connected"


class FloodScheduler(scheduler_pb2_grpc.SchedulerServicer):
    def __init__(self, count: int, prefix: str, streams: int, max_inflight: int) -> None:
        self.count, self.prefix, self.streams = count, prefix, streams
        self.outboxes: list[asyncio.Queue[scheduler_pb2.WatchJobsResponse]] = []
        self.inflight = asyncio.Semaphore(max_inflight)
        self.all_connected = asyncio.Event()
        self.acked = 0

    async def WatchJobs(self, request_iterator: AsyncIterator[scheduler_pb2.WatchJobsRequest],
                        context: grpc.aio.ServicerContext) -> AsyncIterator[scheduler_pb2.WatchJobsResponse]:
        outbox: asyncio.Queue[scheduler_pb2.WatchJobsResponse] = asyncio.Queue()
        first = await request_iterator.__anext__()
        if not first.HasField("initial"):
            return
        self.outboxes.append(outbox)
        if len(self.outboxes) >= self.streams:
            self.all_connected.set()

        async def read_acks() -> None:
            async for message in request_iterator:
                if message.HasField("result"):
                    self.acked += 1
                    self.inflight.release()

        reader = asyncio.create_task(read_acks())
        try:
            while True:
                yield await outbox.get()
        finally:
            reader.cancel()

    async def flood(self) -> None:
        await self.all_connected.wait()
        # The harness reads this line to take its CPU baseline (start-up excluded) during the pause that follows.
        print(STREAMS_CONNECTED, flush=True)
        await asyncio.sleep(1.0)
        start = time.time_ns()
        data = DueData(start).encode()
        ids = itertools.count(1)
        for i in range(self.count):
            await self.inflight.acquire()
            outbox = self.outboxes[i % len(self.outboxes)]
            outbox.put_nowait(scheduler_pb2.WatchJobsResponse(
                name=f"{self.prefix}{i}", id=next(ids), data={"value": data},
                metadata=scheduler_pb2.JobMetadata(app_id="bench", namespace="default")))


async def run_scheduler(port: int, count: int, prefix: str, streams: int, max_inflight: int) -> None:
    servicer = FloodScheduler(count, prefix, streams, max_inflight)
    server = grpc.aio.server()
    scheduler_pb2_grpc.add_SchedulerServicer_to_server(servicer, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await servicer.flood()
    await server.wait_for_termination()


async def run_sidecar(scheduler: str, app_port: int, streams: int, max_inflight: int) -> None:
    app_channel = grpc.aio.insecure_channel(f"127.0.0.1:{app_port}")
    app = appcallback_pb2_grpc.AppCallbackAlphaStub(app_channel)
    gate = asyncio.Semaphore(max_inflight)
    tasks: set[asyncio.Task[None]] = set()

    async def stream() -> None:
        channel = grpc.aio.insecure_channel(scheduler)
        call = scheduler_pb2_grpc.SchedulerStub(channel).WatchJobs()
        lock = asyncio.Lock()
        await call.write(scheduler_pb2.WatchJobsRequest(
            initial=scheduler_pb2.WatchJobsRequestInitial(app_id="bench", namespace="default")))

        async def handle(trigger: scheduler_pb2.WatchJobsResponse) -> None:
            async with gate:
                await app.OnJobEventAlpha1(job_event(trigger.name, trigger.data.value))
            ack = scheduler_pb2.WatchJobsRequest(result=scheduler_pb2.WatchJobsRequestResult(
                id=trigger.id, status=scheduler_pb2.SUCCESS))
            async with lock:
                await call.write(ack)

        while True:
            trigger = await call.read()
            if trigger is grpc.aio.EOF:
                return
            task = asyncio.create_task(handle(trigger))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    await asyncio.gather(*(stream() for _ in range(streams)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["scheduler", "sidecar"], required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--prefix", default="t-")
    parser.add_argument("--streams", type=int, default=3)
    parser.add_argument("--max-inflight", type=int, default=1000)
    parser.add_argument("--scheduler", default="")
    parser.add_argument("--app-port", type=int, default=0)
    args = parser.parse_args()
    if args.mode == "scheduler":
        asyncio.run(run_scheduler(args.port, args.count, args.prefix, args.streams, args.max_inflight))
    else:
        asyncio.run(run_sidecar(args.scheduler, args.app_port, args.streams, args.max_inflight))


if __name__ == "__main__":
    main()

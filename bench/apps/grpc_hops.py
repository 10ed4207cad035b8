"""The register path with nothing but its gRPC hops: a ceiling for what Python gRPC allows on this machine.

ScheduleJob crosses two Python ``grpc.aio`` processes before etcd: the sidecar (Dapr API server, Scheduler API
client) and the scheduler (Scheduler API server). This app plays either part doing no work at all:

- ``--mode scheduler``: serves ``dapr.proto.scheduler.v1.Scheduler/ScheduleJob`` and answers at once;
- ``--mode sidecar``: serves ``dapr.proto.runtime.v1.Dapr/ScheduleJob`` (and ``GET /v1.0/healthz/outbound`` for
  the SDK's start-up probe) and forwards each call to ``--upstream`` as a Scheduler ``ScheduleJob``.

The register scenario points the same SDK load client at a sidecar-mode hop chained to a scheduler-mode one: the
jobs/s it gets is the most two Python gRPC hops can pass here, before any validation, storage or etcd.
"""

from __future__ import annotations

import argparse
import asyncio

import grpc
from aiohttp import web
from dapr.proto.runtime.v1 import dapr_pb2_grpc, jobs_pb2
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc


class NullScheduler(scheduler_pb2_grpc.SchedulerServicer):
    async def ScheduleJob(self, request: scheduler_pb2.ScheduleJobRequest,
                          context: grpc.aio.ServicerContext) -> scheduler_pb2.ScheduleJobResponse:
        return scheduler_pb2.ScheduleJobResponse()


class RelaySidecar(dapr_pb2_grpc.DaprServicer):
    def __init__(self, upstream: str) -> None:
        self._channel = grpc.aio.insecure_channel(upstream)
        self._stub = scheduler_pb2_grpc.SchedulerStub(self._channel)

    async def ScheduleJob(self, request: jobs_pb2.ScheduleJobRequest,
                          context: grpc.aio.ServicerContext) -> jobs_pb2.ScheduleJobResponse:
        job = request.job
        forwarded = scheduler_pb2.ScheduleJobRequest(
            name=job.name, overwrite=request.overwrite,
            job=scheduler_pb2.Job(due_time=job.due_time, data=job.data),
            metadata=scheduler_pb2.JobMetadata(app_id="bench", namespace="default"),
        )
        await self._stub.ScheduleJob(forwarded)
        return jobs_pb2.ScheduleJobResponse()


async def serve(mode: str, port: int, http_port: int | None, upstream: str | None) -> None:
    server = grpc.aio.server()
    if mode == "scheduler":
        scheduler_pb2_grpc.add_SchedulerServicer_to_server(NullScheduler(), server)
    else:
        if upstream is None:
            raise SystemExit("--upstream is required in sidecar mode")
        dapr_pb2_grpc.add_DaprServicer_to_server(RelaySidecar(upstream), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    runner: web.AppRunner | None = None
    if http_port is not None:
        app = web.Application()

        async def healthz(_request: web.Request) -> web.Response:
            return web.Response(status=204)

        app.router.add_get("/v1.0/healthz/outbound", healthz)
        app.router.add_get("/v1.0/healthz", healthz)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", http_port).start()
    try:
        await server.wait_for_termination()
    finally:
        if runner is not None:
            await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["scheduler", "sidecar"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--http-port", type=int, default=None)
    parser.add_argument("--upstream", default=None)
    args = parser.parse_args()
    asyncio.run(serve(args.mode, args.port, args.http_port, args.upstream))


if __name__ == "__main__":
    main()

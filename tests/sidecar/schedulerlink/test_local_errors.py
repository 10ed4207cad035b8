"""The in-process transport reports a handler's failure exactly as a gRPC client sees it from a real server."""

from __future__ import annotations

from typing import Any, NoReturn

import grpc
import pytest
from daprjobs.etcd.embedded import free_port
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.scheduler.local_endpoint import LocalEndpoint
from daprjobs.sidecar.schedulerlink.local_transport import LocalJobs

from tests.scheduler.jobrequests import app_meta


class FailingScheduler(scheduler_pb2_grpc.SchedulerServicer):
    """ScheduleJob aborts with trailing metadata; GetJob raises an exception no status was given for."""

    async def ScheduleJob(self, request: Any, context: Any) -> NoReturn:
        context.set_trailing_metadata((("daprjobs-store-failure", "unavailable"),))
        await context.abort(grpc.StatusCode.UNAVAILABLE, "cannot schedule job: etcd unavailable")
        raise AssertionError("abort returned")

    async def GetJob(self, request: Any, context: Any) -> NoReturn:
        raise ValueError("boom")


async def outcome(call: Any) -> tuple[grpc.StatusCode, str, list[tuple[str, Any]]]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    err = caught.value
    trailing = [(k, v) for k, v in (err.trailing_metadata() or ()) if k.startswith("daprjobs")]
    return err.code(), err.details() or "", trailing


async def test_abort_and_unexpected_errors_match_a_grpc_server() -> None:
    service = FailingScheduler()
    server = grpc.aio.server()
    scheduler_pb2_grpc.add_SchedulerServicer_to_server(service, server)
    port = server.add_insecure_port(f"127.0.0.1:{free_port()}")
    await server.start()
    try:
        local = LocalJobs(LocalEndpoint(f"127.0.0.1:{port}", service, lambda: True))  # type: ignore[arg-type]
        job = scheduler_pb2.Job(due_time="1h")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = scheduler_pb2_grpc.SchedulerStub(channel)
            over_grpc = [
                await outcome(stub.ScheduleJob(scheduler_pb2.ScheduleJobRequest(name="a", job=job,
                                                                                 metadata=app_meta("e")))),
                await outcome(stub.GetJob(scheduler_pb2.GetJobRequest(name="a", metadata=app_meta("e")))),
            ]
        in_process = [
            await outcome(local.schedule_job("a", job, app_meta("e"), False)),
            await outcome(local.get_job("a", app_meta("e"))),
        ]
    finally:
        await server.stop(None)
    assert over_grpc[0] == (grpc.StatusCode.UNAVAILABLE, "cannot schedule job: etcd unavailable",
                            [("daprjobs-store-failure", "unavailable")])
    assert over_grpc[1][0] == grpc.StatusCode.UNKNOWN and "boom" in over_grpc[1][1]
    assert in_process == over_grpc


async def test_a_stopped_replica_refuses_calls() -> None:
    local = LocalJobs(LocalEndpoint("127.0.0.1:1", FailingScheduler(), lambda: False))  # type: ignore[arg-type]
    code, details, _ = await outcome(local.get_job("a", app_meta("e")))
    assert code == grpc.StatusCode.UNAVAILABLE and "not serving" in details

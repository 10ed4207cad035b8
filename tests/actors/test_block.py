"""``ActorsBlock`` composed into the sidecar's seam: which RPCs and routes it serves, which triggers it takes,
what it says in the metadata, served through the sidecar's real gRPC router on a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import grpc
import pytest
from dapr.proto.runtime.v1 import actors_pb2, dapr_pb2, dapr_pb2_grpc
from daprjobs.actors.block import ActorsBlock
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.sidecar.block import SidecarServices
from daprjobs.sidecar.config import SidecarConfig
from daprjobs.sidecar.grpc_server import DaprServiceRouter
from daprjobs.sidecar.metadata import base_response, response_json
from daprjobs.sidecar.metrics import SidecarMetrics

_DAPR = dapr_pb2.DESCRIPTOR.services_by_name["Dapr"]
# Every actor RPC of the Dapr service: the ones whose request is declared in actors.proto.
ACTOR_RPCS = {m.name for m in _DAPR.methods if m.input_type.file.name.endswith("/actors.proto")}


class UnusedJobsClient:
    """The scheduler link; these tests never reach the scheduler, so any call is a failure."""

    def __init__(self) -> None:
        self.actor_types: list[list[str]] = []

    async def schedule_job(self, *args: object, **kwargs: object) -> scheduler_pb2.ScheduleJobResponse:
        raise AssertionError("unexpected ScheduleJob")

    async def get_job(self, *args: object, **kwargs: object) -> scheduler_pb2.GetJobResponse:
        raise AssertionError("unexpected GetJob")

    async def delete_job(self, *args: object, **kwargs: object) -> scheduler_pb2.DeleteJobResponse:
        raise AssertionError("unexpected DeleteJob")

    async def list_jobs(self, *args: object, **kwargs: object) -> scheduler_pb2.ListJobsResponse:
        raise AssertionError("unexpected ListJobs")

    async def delete_by_metadata(self, *args: object, **kwargs: object) -> scheduler_pb2.DeleteByMetadataResponse:
        raise AssertionError("unexpected DeleteByMetadata")

    async def delete_by_name_prefix(self, *args: object, **kwargs: object) -> scheduler_pb2.DeleteByNamePrefixResponse:
        raise AssertionError("unexpected DeleteByNamePrefix")

    def set_actor_types(self, types: list[str]) -> None:
        self.actor_types.append(list(types))


@pytest.fixture
async def block() -> AsyncIterator[ActorsBlock]:
    async with aiohttp.ClientSession() as session:
        services = SidecarServices(
            config=SidecarConfig(app_id="actors-block"),
            scheduler=UnusedJobsClient(),
            http_session=session,
            metrics=SidecarMetrics("actors-block"),
        )
        yield ActorsBlock(services)


def _trigger(target: scheduler_pb2.JobTargetMetadata | None) -> scheduler_pb2.WatchJobsResponse:
    trigger = scheduler_pb2.WatchJobsResponse(name="r1", id=1)
    if target is not None:
        trigger.metadata.target.CopyFrom(target)
    return trigger


def _actor_target(actor_type: str, actor_id: str) -> scheduler_pb2.JobTargetMetadata:
    return scheduler_pb2.JobTargetMetadata(actor=scheduler_pb2.TargetActorReminder(type=actor_type, id=actor_id))


async def test_every_actor_rpc_of_the_dapr_service_is_served(block: ActorsBlock) -> None:
    assert len(ACTOR_RPCS) == 13
    methods = block.grpc_methods()
    assert set(methods) == ACTOR_RPCS
    for name, handler in methods.items():
        descriptor = _DAPR.methods_by_name[name]
        streaming = descriptor.client_streaming and descriptor.server_streaming
        assert (handler.stream_stream is not None) == streaming, name
        assert (handler.unary_unary is not None) == (not streaming), name
        # Requests decode as the method's own message type (from the descriptor, not Any).
        assert handler.request_deserializer(b"").DESCRIPTOR is descriptor.input_type, name


async def test_http_routes_cover_the_actor_api_and_the_forwarding_routes(block: ActorsBlock) -> None:
    routes = {(r.method, r.path) for r in block.http_routes()}  # type: ignore[attr-defined]
    api = "/v1.0/actors/{actorType}/{actorId}"
    internal = "/daprjobs-internal/v1/actors/{actorType}/{actorId}"
    expected = {(verb, api + "/method/{method:.+}") for verb in ("GET", "POST", "PUT", "DELETE")}
    expected |= {(verb, api + suffix) for verb in ("PUT", "POST") for suffix in ("/reminders/{name}",
                                                                                 "/timers/{name}", "/state")}
    expected |= {("GET", api + "/reminders/{name}"), ("DELETE", api + "/reminders/{name}"),
                 ("DELETE", api + "/timers/{name}"), ("GET", api + "/state/{key}")}
    expected |= {("PUT", internal + "/method/{method:.+}"), ("PUT", internal + "/remind/{name}"),
                 ("PUT", internal + "/timers/{name}"), ("DELETE", internal + "/timers/{name}")}
    assert routes == expected


async def test_a_reminder_trigger_is_taken_and_an_app_job_is_not(block: ActorsBlock) -> None:
    (consumer,) = block.trigger_consumers()
    assert consumer.accepts(_trigger(_actor_target("Demo", "1")))
    assert not consumer.accepts(_trigger(scheduler_pb2.JobTargetMetadata(job=scheduler_pb2.TargetJob())))
    assert not consumer.accepts(_trigger(None))


async def test_a_reminder_for_a_type_nobody_hosts_is_acked_failed(block: ActorsBlock) -> None:
    (consumer,) = block.trigger_consumers()
    assert await consumer.deliver(_trigger(_actor_target("Nobody", "1"))) == scheduler_pb2.FAILED


async def test_metadata_says_running_and_not_ready_before_the_app_registers(block: ActorsBlock) -> None:
    config = SidecarConfig(app_id="actors-block")
    metadata = base_response(config, [], {})
    block.describe(metadata)
    doc = response_json(metadata)
    assert doc["actorRuntime"] == {"runtimeStatus": "RUNNING", "hostReady": False}
    assert "actors" not in doc


async def test_actor_rpcs_answer_through_the_sidecar_router(block: ActorsBlock) -> None:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((DaprServiceRouter(block.grpc_methods()),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = dapr_pb2_grpc.DaprStub(channel)  # type: ignore[no-untyped-call]
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.RegisterActorReminder(actors_pb2.RegisterActorReminderRequest(
                    actor_type="Nobody", actor_id="1", name="r", due_time="1s"))
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert "only possible on hosted actor types" in (refused.value.details() or "")
            with pytest.raises(grpc.aio.AioRpcError) as unread:
                await stub.GetActorTimer(actors_pb2.GetActorTimerRequest(actor_type="T", actor_id="1", name="t"))
            assert unread.value.code() == grpc.StatusCode.UNIMPLEMENTED
            assert "GetActorTimer" in (unread.value.details() or "")
            with pytest.raises(grpc.aio.AioRpcError) as no_store:
                await stub.GetActorState(actors_pb2.GetActorStateRequest(actor_type="T", actor_id="1", key="k"))
            assert no_store.value.code() == grpc.StatusCode.INTERNAL
            assert "actorStateStore" in (no_store.value.details() or "")
    finally:
        await server.stop(grace=None)

"""A Python ``ActorGrpcHost`` app (dapr 1.19, alpha): actors hosted over ``SubscribeActorEventsAlpha1``."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import httpx
import pytest
from dapr.proto.runtime.v1 import actors_pb2, dapr_pb2_grpc
from daprjobs.etcd.embedded import EtcdProcess, free_port

from tests.support.daprjobs_processes import SchedulerProcess, SidecarProcess
from tests.support.processes import ChildProcess
from tests.support.resources import write_actor_state_store
from tests.support.waiting import eventually

from .sdk_apps import Events, python_app

pytestmark = pytest.mark.slow
ACTOR = "StreamActor"


@dataclass
class Stack:
    scheduler: SchedulerProcess
    sidecar: SidecarProcess
    app: ChildProcess
    events: Events

    @property
    def procs(self) -> list[ChildProcess]:
        return [self.sidecar, self.app, self.scheduler]


@pytest.fixture(scope="module")
def stack(module_etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("pygrpc")
    scheduler = SchedulerProcess(tmp, module_etcd.endpoint, f"s{uuid.uuid4().hex[:8]}", lease_ttl_s=3).start()
    resources = write_actor_state_store(tmp / "resources", module_etcd.endpoint, f"state{uuid.uuid4().hex[:8]}")
    sidecar = SidecarProcess(tmp, "pygrpc", scheduler.address, resources_path=resources, app_port=free_port(),
                             app_protocol="grpc")
    events = Events(tmp / "events.jsonl")
    app = python_app(tmp, "py_grpc_actor_host.py", sidecar, events, "pygrpc-app")
    built = Stack(scheduler, sidecar, app, events)
    try:
        asyncio.run(scheduler.wait_ready())
        sidecar.start()
        asyncio.run(sidecar.wait_ready())
        app.start()
        asyncio.run(eventually(lambda: _hosts(sidecar), 60, what="StreamActor hosted", watch=built.procs))
        yield built
    finally:
        for proc in (app, sidecar, scheduler):
            proc.stop()


async def _hosts(sidecar: SidecarProcess) -> bool:
    return ACTOR in await sidecar.hosted_types()


async def call(stack: Stack, actor_id: str, method: str, arg: object = None) -> httpx.Response:
    body = json.dumps(arg).encode() if arg is not None else b""
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/method/{method}", content=body)


async def test_reminder_fires_over_the_stream_with_the_same_data(stack: Stack) -> None:
    actor_id = f"g-{uuid.uuid4().hex[:8]}"
    resp = await call(stack, actor_id, "RegisterReminder", {"name": "ping", "state": "stream-data", "due": 0,
                                                            "period": 1})
    assert resp.status_code == 200, resp.text
    fired = await stack.events.wait("reminder", count=2, actor=actor_id, name="ping", watch=stack.procs)
    assert [e["state"] for e in fired[:2]] == ["stream-data", "stream-data"]
    # Registered over gRPC: the stored data is the base64 JSON string, as daprd stores json.Marshal(bytes).
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.sidecar.grpc_port}") as channel:
        stub = dapr_pb2_grpc.DaprStub(channel)
        got = await stub.GetActorReminder(actors_pb2.GetActorReminderRequest(actor_type=ACTOR, actor_id=actor_id,
                                                                             name="ping"))
        assert got.period == "@every 1s"
        listed = await stub.ListActorReminders(actors_pb2.ListActorRemindersRequest(actor_type=ACTOR,
                                                                                    actor_id=actor_id))
        assert [r.name for r in listed.reminders] == ["ping"]
        await stub.UnregisterActorReminder(actors_pb2.UnregisterActorReminderRequest(actor_type=ACTOR,
                                                                                     actor_id=actor_id, name="ping"))
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.GetActorReminder(actors_pb2.GetActorReminderRequest(actor_type=ACTOR, actor_id=actor_id,
                                                                           name="ping"))
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        assert info.value.details() == "actor reminder not found: ping"
    async with httpx.AsyncClient(timeout=10) as client:
        raw = await client.get(f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/reminders/ping")
    assert raw.status_code == 404


async def test_grpc_reminder_data_is_a_base64_json_string(stack: Stack) -> None:
    actor_id = f"g-{uuid.uuid4().hex[:8]}"
    resp = await call(stack, actor_id, "RegisterReminder", {"name": "later", "state": "abc", "due": 3600})
    assert resp.status_code == 200, resp.text
    async with httpx.AsyncClient(timeout=10) as client:
        got = await client.get(f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/reminders/later")
    assert got.status_code == 200
    # SDK: base64("abc") in the JSON body → raw bytes "abc" on the RPC → stored as json.Marshal(bytes).
    assert got.json()["data"] == base64.b64encode(b"abc").decode()


async def test_timer_and_state_over_grpc(stack: Stack) -> None:
    actor_id = f"g-{uuid.uuid4().hex[:8]}"
    assert (await call(stack, actor_id, "SetValue", {"v": [1, 2]})).status_code == 200
    got = await call(stack, actor_id, "GetValue")
    assert got.status_code == 200 and got.json() == {"v": [1, 2]}
    assert (await call(stack, actor_id, "StartTimer", {"name": "tick", "state": {"t": 1}, "period": 1})).status_code \
        == 200
    fired = await stack.events.wait("timer", actor=actor_id, watch=stack.procs)
    assert fired[0]["state"] == {"t": 1}


async def test_grpc_errors(stack: Stack) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.sidecar.grpc_port}") as channel:
        stub = dapr_pb2_grpc.DaprStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.RegisterActorReminder(actors_pb2.RegisterActorReminderRequest(
                actor_type="Nope", actor_id="1", name="r", due_time="1s"))
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.RegisterActorReminder(actors_pb2.RegisterActorReminderRequest(
                actor_type=ACTOR, actor_id="1", name="r", due_time="1s", period="R0/PT1S"))
        assert info.value.code() == grpc.StatusCode.INTERNAL
        assert "unsupported period format" in (info.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.RegisterActorReminder(actors_pb2.RegisterActorReminderRequest(
                actor_type=ACTOR, actor_id="a/b", name="r", due_time="1s"))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        state = await stub.GetActorState(actors_pb2.GetActorStateRequest(actor_type=ACTOR, actor_id="none", key="k"))
        assert state.data == b""


async def test_unregister_reminders_by_type_and_id(stack: Stack) -> None:
    ids = [f"bt-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    for actor_id in ids:
        resp = await call(stack, actor_id, "RegisterReminder", {"name": "far", "state": "x", "due": 3600})
        assert resp.status_code == 200, resp.text
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.sidecar.grpc_port}") as channel:
        stub = dapr_pb2_grpc.DaprStub(channel)

        async def names(actor_id: str) -> list[str]:
            listed = await stub.ListActorReminders(actors_pb2.ListActorRemindersRequest(actor_type=ACTOR,
                                                                                        actor_id=actor_id))
            return [r.name for r in listed.reminders]

        await stub.UnregisterActorRemindersByType(
            actors_pb2.UnregisterActorRemindersByTypeRequest(actor_type=ACTOR, actor_id=ids[0]))
        assert await names(ids[0]) == []
        assert await names(ids[1]) == ["far"]
        await stub.UnregisterActorRemindersByType(actors_pb2.UnregisterActorRemindersByTypeRequest(actor_type=ACTOR))
        assert await names(ids[1]) == []

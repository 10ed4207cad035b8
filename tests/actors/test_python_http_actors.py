"""A Python FastAPI ``DaprActor`` app (official SDK) on one daprjobs sidecar, real scheduler and etcd."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from dapr.actor import ActorId, ActorProxy
from daprjobs.etcd.embedded import EtcdProcess, free_port

from tests.support.daprjobs_processes import SchedulerProcess, SidecarProcess
from tests.support.processes import ChildProcess
from tests.support.resources import write_actor_state_store
from tests.support.waiting import eventually

from .sdk_apps import Events, python_app

pytestmark = pytest.mark.slow
ACTOR = "DemoActor"


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
    tmp = tmp_path_factory.mktemp("pyhttp")
    scheduler = SchedulerProcess(tmp, module_etcd.endpoint, f"s{uuid.uuid4().hex[:8]}", lease_ttl_s=3).start()
    resources = write_actor_state_store(tmp / "resources", module_etcd.endpoint, f"state{uuid.uuid4().hex[:8]}")
    sidecar = SidecarProcess(tmp, "pyhttp", scheduler.address, resources_path=resources, app_port=free_port())
    events = Events(tmp / "events.jsonl")
    app = python_app(tmp, "py_http_actor_app.py", sidecar, events, "pyhttp-app",
                     {"ACTOR_IDLE_TIMEOUT_S": "4"})
    built = Stack(scheduler, sidecar, app, events)
    try:
        asyncio.run(scheduler.wait_ready())
        sidecar.start()
        asyncio.run(sidecar.wait_ready())
        app.start()
        asyncio.run(eventually(lambda: _hosts(sidecar), 60, what="DemoActor hosted", watch=built.procs))
        yield built
    finally:
        for proc in (app, sidecar, scheduler):
            proc.stop()


async def _hosts(sidecar: SidecarProcess) -> bool:
    return ACTOR in await sidecar.hosted_types()


async def call(stack: Stack, actor_id: str, method: str, arg: object = None) -> httpx.Response:
    """What the SDK's ActorProxy sends: POST …/method/{m} with the JSON argument."""
    body = json.dumps(arg).encode() if arg is not None else b""
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(
            f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/method/{method}",
            content=body, headers={"content-type": "application/json; charset=utf-8"},
        )


def new_id() -> str:
    return f"a-{uuid.uuid4().hex[:8]}"


async def test_proxy_invocation_and_state_that_persists(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    actor_id = new_id()
    monkeypatch.setenv("DAPR_HTTP_PORT", str(stack.sidecar.http_port))
    proxy = ActorProxy.create(ACTOR, ActorId(actor_id))
    await proxy.invoke_method("SetValue", json.dumps({"n": 41, "tags": ["x"]}).encode())
    assert json.loads(await proxy.invoke_method("GetValue")) == {"n": 41, "tags": ["x"]}
    # The state is in etcd: read it through the state API, and it survives the actor's deactivation.
    async with httpx.AsyncClient(timeout=10) as client:
        resp = await client.get(f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/state/value")
        assert resp.status_code == 200
        assert json.loads(resp.content) == {"n": 41, "tags": ["x"]}
        missing = await client.get(f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/state/nothing")
        assert missing.status_code == 204 and missing.content == b""
    await stack.events.wait("deactivate", actor=actor_id, timeout=30, watch=stack.procs)
    resp = await call(stack, actor_id, "GetValue")
    assert resp.status_code == 200 and resp.json() == {"n": 41, "tags": ["x"]}
    assert len(stack.events.of("activate", actor=actor_id)) == 2


async def test_app_error_is_err_actor_invoke_method(stack: Stack) -> None:
    resp = await call(stack, new_id(), "Fail")
    assert resp.status_code == 500
    body = resp.json()
    assert body["errorCode"] == "ERR_ACTOR_INVOKE_METHOD"
    assert body["message"].startswith("error invoke actor method: error from actor service: (500)")
    assert "this actor method always fails" in body["message"]


async def test_timer_fires_with_its_data_until_stopped(stack: Stack) -> None:
    actor_id = new_id()
    resp = await call(stack, actor_id, "StartTimer", {"name": "tick", "state": {"k": "v"}, "due": 0, "period": 1})
    assert resp.status_code == 200
    fired = await stack.events.wait("timer", count=2, actor=actor_id, watch=stack.procs)
    assert all(e["state"] == {"k": "v"} for e in fired)
    assert (await call(stack, actor_id, "StopTimer", "tick")).status_code == 200
    await asyncio.sleep(0.5)
    count = len(stack.events.of("timer", actor=actor_id))
    await asyncio.sleep(2.5)
    assert len(stack.events.of("timer", actor=actor_id)) == count


async def test_repeating_iso_reminder_fires_exactly_three_times_with_its_data(stack: Stack) -> None:
    actor_id = new_id()
    state = base64.b64encode(b"payload-r3").decode()
    # Passed as a string: the SDK's JSON deserializer would turn the duration into a timedelta.
    body = {"reminderName": "r3", "dueTime": "0h0m0s0ms0\u03bcs", "period": "R3/PT1S", "data": state}
    spec = {"name": "r3", "body": json.dumps(body)}
    resp = await call(stack, actor_id, "RegisterRawReminder", spec)
    assert resp.status_code == 200, resp.text
    fired = await stack.events.wait("reminder", count=3, actor=actor_id, name="r3", watch=stack.procs)
    assert [e["state"] for e in fired] == ["payload-r3"] * 3
    await asyncio.sleep(3)
    assert len(stack.events.of("reminder", actor=actor_id, name="r3")) == 3
    async with httpx.AsyncClient(timeout=10) as client:
        gone = await client.get(f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/reminders/r3")
    assert gone.status_code == 404
    assert gone.json()["errorCode"] == "ERR_ACTOR_REMINDER_NOT_FOUND"


async def test_reminder_cancelled_by_the_header(stack: Stack) -> None:
    actor_id = new_id()
    spec = {"name": "cancel-me", "state": "c", "due": 0, "period": 1}
    assert (await call(stack, actor_id, "RegisterReminder", spec)).status_code == 200
    await stack.events.wait("reminder", count=2, actor=actor_id, name="cancel-me", watch=stack.procs)
    async with httpx.AsyncClient(timeout=10) as client:
        url = f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/reminders/cancel-me"
        await eventually(lambda: _status_is(client, url, 404), 15, what="cancelled reminder deleted")
    count = len(stack.events.of("reminder", actor=actor_id, name="cancel-me"))
    await asyncio.sleep(3)
    assert len(stack.events.of("reminder", actor=actor_id, name="cancel-me")) == count


async def _status_is(client: httpx.AsyncClient, url: str, status: int) -> bool:
    return (await client.get(url)).status_code == status


async def test_one_shot_reminder_fires_once_and_is_gone(stack: Stack) -> None:
    actor_id = new_id()
    spec = {"name": "once", "state": "only-once", "due": 1}
    assert (await call(stack, actor_id, "RegisterReminder", spec)).status_code == 200
    async with httpx.AsyncClient(timeout=10) as client:
        got = await client.get(f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/reminders/once")
        if got.status_code == 200:  # it may already have fired
            assert got.json()["dueTime"] == "0h0m1s0ms0\u03bcs"
            assert got.json()["data"] == base64.b64encode(b"only-once").decode()
    fired = await stack.events.wait("reminder", actor=actor_id, name="once", watch=stack.procs)
    assert fired[0]["state"] == "only-once"
    await asyncio.sleep(3)
    assert len(stack.events.of("reminder", actor=actor_id, name="once")) == 1


async def test_bad_reminder_input_gets_its_documented_error_and_changes_nothing(stack: Stack) -> None:
    actor_id = new_id()
    base = f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/reminders"
    async with httpx.AsyncClient(timeout=10) as client:
        good = await client.put(f"{base}/keep", json={"dueTime": "1h", "period": "1h", "data": "a2VlcA=="})
        assert good.status_code == 204 and good.content == b""
        before = (await client.get(f"{base}/keep")).json()
        cases: list[tuple[str, str, bytes, int, str]] = [
            ("PUT", "keep", b'{"dueTime":"1s","period":"P1D"}', 500, "ERR_ACTOR_REMINDER_CREATE"),
            ("PUT", "keep", b'{"dueTime":"1s","period":"R0/PT1S"}', 500, "ERR_ACTOR_REMINDER_CREATE"),
            ("POST", "keep", b'{"dueTime":"whenever","period":"1s"}', 500, "ERR_ACTOR_REMINDER_CREATE"),
            ("PUT", "keep", b'{"dueTime":"1s",', 400, "ERR_MALFORMED_REQUEST"),
            ("PUT", "keep", b'{"dueTime":1}', 400, "ERR_MALFORMED_REQUEST"),
            ("PUT", "keep", b'{"dueTime":"1s","period":"1s","overwrite":false}', 409,
             "ERR_ACTOR_REMINDER_ALREADY_EXISTS"),
            ("PUT", "bad%5Cname", b'{"dueTime":"1s"}', 400, "ERR_BAD_REQUEST"),
            ("PUT", "%2E%2E", b'{"dueTime":"1s"}', 400, "ERR_BAD_REQUEST"),
        ]
        for verb, name, body, status, code in cases:
            resp = await client.request(verb, f"{base}/{name}", content=body)
            assert resp.status_code == status, (name, body, resp.text)
            assert resp.json()["errorCode"] == code, (name, body, resp.text)
        assert (await client.get(f"{base}/keep")).json() == before
        non_hosted = await client.put(f"{stack.sidecar.base}/v1.0/actors/NotHosted/x/reminders/r",
                                      json={"dueTime": "1s"})
        assert non_hosted.status_code == 403
        assert non_hosted.json() == {
            "errorCode": "ERR_ACTOR_REMINDER_NON_HOSTED",
            "message": "operations on actor reminders are only possible on hosted actor types",
        }
        assert (await client.get(f"{stack.sidecar.base}/v1.0/actors/NotHosted/x/reminders/r")).status_code == 403
        timer = await client.put(f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/timers/t",
                                 json={"dueTime": "1s", "period": "R0/PT1S", "callback": "x"})
        assert (timer.status_code, timer.json()["errorCode"]) == (500, "ERR_ACTOR_TIMER_CREATE")
        state = await client.put(f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/state", content=b"[{")
        assert (state.status_code, state.json()["errorCode"]) == (400, "ERR_MALFORMED_REQUEST")
        bad_op = await client.put(f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/state",
                                  json=[{"operation": "upsert", "request": {"key": "k", "value": 1}},
                                        {"operation": "merge", "request": {"key": "m"}}])
        assert (bad_op.status_code, bad_op.json()["errorCode"]) == (400, "ERR_NOT_SUPPORTED_STATE_OPERATION")
        assert (await client.get(f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/state/k")).status_code == 204
        bad_id = await client.post(f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/a%3Fb/method/GetValue")
        assert (bad_id.status_code, bad_id.json()["errorCode"]) == (400, "ERR_BAD_REQUEST")
        deleted = await client.delete(f"{base}/keep")
        assert deleted.status_code == 204
        assert (await client.delete(f"{base}/never-existed")).status_code == 204


async def test_state_transaction_with_ttl(stack: Stack) -> None:
    actor_id = new_id()
    url = f"{stack.sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/state"
    async with httpx.AsyncClient(timeout=10) as client:
        resp = await client.post(url, json=[
            {"operation": "upsert", "request": {"key": "short", "value": "bye", "metadata": {"ttlInSeconds": "2"}}},
            {"operation": "upsert", "request": {"key": "long", "value": {"a": 1}}},
        ])
        assert resp.status_code == 204
        assert (await client.get(f"{url}/short")).content == b'"bye"'
        await eventually(lambda: _status_is(client, f"{url}/short", 204), 20, what="ttl expiry")
        assert (await client.get(f"{url}/long")).json() == {"a": 1}
        resp = await client.put(url, json=[{"operation": "delete", "request": {"key": "long"}}])
        assert resp.status_code == 204
        assert (await client.get(f"{url}/long")).status_code == 204


async def test_calls_into_one_actor_take_turns_and_other_actors_run_meanwhile(stack: Stack) -> None:
    first, other = new_id(), new_id()
    results = await asyncio.gather(
        call(stack, first, "Slow", "one"), call(stack, first, "Slow", "two"), call(stack, other, "Slow", "three")
    )
    assert [r.status_code for r in results] == [200, 200, 200]
    spans = {}
    for event in stack.events.all():
        if event["kind"] in ("slow-start", "slow-end"):
            spans.setdefault(event["tag"], {})[event["kind"]] = event["t"]
    one, two, three = spans["one"], spans["two"], spans["three"]
    first_done, second = sorted((one, two), key=lambda s: s["slow-start"])
    assert second["slow-start"] >= first_done["slow-end"]  # same actor: one at a time
    assert three["slow-start"] < first_done["slow-end"] and first_done["slow-start"] < three["slow-end"]

"""Durability and placement: a restarted sidecar keeps reminders and state; two sidecars split one actor type,
reminders fire where the actor lives, and a killed host's actors (and their reminders) move to the survivor."""

from __future__ import annotations

import json
import pathlib
import uuid

import httpx
import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port

from tests.support.daprjobs_processes import SchedulerProcess, SidecarProcess
from tests.support.processes import ChildProcess
from tests.support.resources import write_actor_state_store
from tests.support.waiting import eventually

from .sdk_apps import Events, python_app

pytestmark = pytest.mark.slow
ACTOR = "DemoActor"


async def call(sidecar: SidecarProcess, actor_id: str, method: str, arg: object = None,
               token: str = "") -> httpx.Response:
    body = json.dumps(arg).encode() if arg is not None else b""
    headers = {"dapr-api-token": token} if token else {}
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(f"{sidecar.base}/v1.0/actors/{ACTOR}/{actor_id}/method/{method}", content=body,
                                 headers=headers)


async def hosted(sidecar: SidecarProcess) -> bool:
    return ACTOR in await sidecar.hosted_types()


async def test_restarted_sidecar_keeps_reminders_and_state(etcd: EtcdProcess, tmp_path: pathlib.Path) -> None:
    scheduler = SchedulerProcess(tmp_path, etcd.endpoint, "restart", lease_ttl_s=3).start()
    resources = write_actor_state_store(tmp_path / "resources", etcd.endpoint)
    first = SidecarProcess(tmp_path, "restart", scheduler.address, resources_path=resources, app_port=free_port())
    events = Events(tmp_path / "events.jsonl")
    app = python_app(tmp_path, "py_http_actor_app.py", first, events, "restart-app")
    second: SidecarProcess | None = None
    procs: list[ChildProcess] = [first, app, scheduler]
    try:
        await scheduler.wait_ready()
        first.start()
        await first.wait_ready()
        app.start()
        await eventually(lambda: hosted(first), 60, what="type hosted", watch=procs)
        assert (await call(first, "keeper", "SetValue", {"kept": True})).status_code == 200
        spec = {"name": "beat", "state": "durable", "due": 1, "period": 1}
        assert (await call(first, "keeper", "RegisterReminder", spec)).status_code == 200
        await events.wait("reminder", actor="keeper", name="beat", watch=procs)

        first.stop()
        before = len(events.of("reminder", actor="keeper", name="beat"))
        # Same ports: the app keeps talking to "its" sidecar, as with a daprd restart.
        second = SidecarProcess(tmp_path, "restart", scheduler.address, resources_path=resources,
                                app_port=first.app_port, http_port=first.http_port, grpc_port=first.grpc_port)
        procs = [second, app, scheduler]
        second.start()
        await second.wait_ready()
        await eventually(lambda: hosted(second), 60, what="type hosted again", watch=procs)
        await events.wait("reminder", count=before + 2, actor="keeper", name="beat", watch=procs)
        assert {e["state"] for e in events.of("reminder", actor="keeper")} == {"durable"}
        got = await call(second, "keeper", "GetValue")
        assert got.status_code == 200 and got.json() == {"kept": True}
    finally:
        for proc in (app, second, first, scheduler):
            if proc is not None:
                proc.stop()


async def homes_of(ids: list[str], sidecars: list[SidecarProcess], token: str) -> dict[str, str] | None:
    """Which app answers for each actor id, once every sidecar agrees; None while they do not."""
    homes: dict[str, str] = {}
    for actor_id in ids:
        answers = {(await call(s, actor_id, "Whoami", token=token)).json()["app"] for s in sidecars}
        if len(answers) != 1:
            return None
        homes[actor_id] = answers.pop()
    return homes


async def test_two_sidecars_split_actors_and_take_over_a_killed_host(etcd: EtcdProcess, tmp_path: pathlib.Path) -> None:
    scheduler = SchedulerProcess(tmp_path, etcd.endpoint, "twohosts", lease_ttl_s=3).start()
    resources = write_actor_state_store(tmp_path / "resources", etcd.endpoint)
    # With DAPR_API_TOKEN set, sidecars present it to each other when they forward.
    token = "actors-token"
    sidecars = [SidecarProcess(tmp_path, "twohosts", scheduler.address, resources_path=resources, app_port=free_port(),
                               env={"DAPR_API_TOKEN": token}) for _ in "ab"]
    events = [Events(tmp_path / f"events-{n}.jsonl") for n in "ab"]
    apps = [python_app(tmp_path, "py_http_actor_app.py", s, e, f"app-{n}", {"APP_NAME": n, "DAPR_API_TOKEN": token})
            for s, e, n in zip(sidecars, events, "ab", strict=True)]
    procs: list[ChildProcess] = [*sidecars, *apps, scheduler]
    try:
        await scheduler.wait_ready()
        for sidecar in sidecars:
            sidecar.start()
        for sidecar in sidecars:
            await sidecar.wait_ready()
        for app in apps:
            app.start()
        for sidecar in sidecars:
            await eventually(lambda s=sidecar: hosted(s), 60, what="type hosted", watch=procs)  # type: ignore[misc]

        # Each actor id lives on exactly one host, whichever sidecar the call enters through.
        ids = [f"p-{i}-{uuid.uuid4().hex[:4]}" for i in range(16)]
        home: dict[str, str] = await eventually(lambda: homes_of(ids, sidecars, token), 30,
                                                what="one home per actor", watch=procs)
        assert set(home.values()) == {"a", "b"}, home  # 16 ids: both hosts get some (all on one host: p = 2^-15)

        # Reminders fire on the actor's host, wherever they were registered from.
        for i, actor_id in enumerate(ids):
            spec = {"name": "tick", "state": actor_id, "due": 1, "period": 1}
            assert (await call(sidecars[i % 2], actor_id, "RegisterReminder", spec, token)).status_code == 200
        for actor_id in ids:
            where = "ab".index(home[actor_id])
            await events[where].wait("reminder", actor=actor_id, name="tick", watch=procs)
        for actor_id in ids:
            other = 1 - "ab".index(home[actor_id])
            assert events[other].of("reminder", actor=actor_id) == [], actor_id

        # Kill host b (sidecar and app): its actors' reminders go on at host a.
        sidecars[1].kill()
        apps[1].kill()
        moved = [a for a in ids if home[a] == "b"]
        for actor_id in moved:
            fired = await events[0].wait("reminder", count=2, actor=actor_id, name="tick", timeout=60, watch=procs)
            assert fired[0]["state"] == actor_id
        assert (await call(sidecars[0], moved[0], "Whoami")).status_code == 401  # no token
        answer = await call(sidecars[0], moved[0], "Whoami", token=token)
        assert answer.status_code == 200 and answer.json()["app"] == "a"
    finally:
        for proc in (*apps, *sidecars, scheduler):
            proc.stop()


async def test_a_joining_host_takes_its_share(etcd: EtcdProcess, tmp_path: pathlib.Path) -> None:
    """Scale out: actors the new host now owns are deactivated on the old one (their timers stop there)."""
    scheduler = SchedulerProcess(tmp_path, etcd.endpoint, "scaleout", lease_ttl_s=3).start()
    resources = write_actor_state_store(tmp_path / "resources", etcd.endpoint)
    sidecars = [SidecarProcess(tmp_path, "scaleout", scheduler.address, resources_path=resources,
                               app_port=free_port()) for _ in "ab"]
    events = [Events(tmp_path / f"events-{n}.jsonl") for n in "ab"]
    apps = [python_app(tmp_path, "py_http_actor_app.py", s, e, f"app-{n}", {"APP_NAME": n})
            for s, e, n in zip(sidecars, events, "ab", strict=True)]
    procs: list[ChildProcess] = [*sidecars, *apps, scheduler]
    try:
        await scheduler.wait_ready()
        sidecars[0].start()
        await sidecars[0].wait_ready()
        apps[0].start()
        await eventually(lambda: hosted(sidecars[0]), 60, what="type hosted on a", watch=procs)
        ids = [f"s-{i}" for i in range(16)]  # none moving: p = 2^-16
        for actor_id in ids:
            assert (await call(sidecars[0], actor_id, "Whoami")).json()["app"] == "a"
            spec = {"name": "t", "state": actor_id, "period": 1}
            assert (await call(sidecars[0], actor_id, "StartTimer", spec)).status_code == 200

        sidecars[1].start()
        await sidecars[1].wait_ready()
        apps[1].start()
        await eventually(lambda: hosted(sidecars[1]), 60, what="type hosted on b", watch=procs)

        async def moved_ids() -> list[str] | None:
            homes = {a: (await call(sidecars[0], a, "Whoami")).json()["app"] for a in ids}
            moved = [a for a in ids if homes[a] == "b"]
            deactivated = {e["actor"] for e in events[0].of("deactivate")}
            return moved if moved and set(moved) <= deactivated else None

        moved = await eventually(moved_ids, 30, what="moved actors deactivated on a", watch=procs)
        await events[0].wait("timer", count=len(ids) * 2, watch=procs)  # a's own timers keep going
        mark = max(e["t"] for e in events[0].all())
        # The actors a kept tick on; the moved ones never tick there again.
        await eventually(lambda: any(e["t"] > mark + 2 for e in events[0].of("timer")), 20, what="more ticks")
        assert not [e for e in events[0].of("timer") if e["actor"] in moved and e["t"] > mark]
    finally:
        for proc in (*apps, *sidecars, scheduler):
            proc.stop()

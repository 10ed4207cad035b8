"""Reentrancy as the app configures it: a call chain re-enters its actor; the stack depth is bounded."""

from __future__ import annotations

import pathlib

import httpx
import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port

from tests.support.daprjobs_processes import SchedulerProcess, SidecarProcess
from tests.support.resources import write_actor_state_store
from tests.support.waiting import eventually

from .sdk_apps import Events, python_app

pytestmark = pytest.mark.slow


async def test_reentrant_self_calls(etcd: EtcdProcess, tmp_path: pathlib.Path) -> None:
    scheduler = SchedulerProcess(tmp_path, etcd.endpoint, "reentrancy", lease_ttl_s=3).start()
    resources = write_actor_state_store(tmp_path / "resources", etcd.endpoint)
    sidecar = SidecarProcess(tmp_path, "reentrant", scheduler.address, resources_path=resources, app_port=free_port())
    events = Events(tmp_path / "events.jsonl")
    app = python_app(tmp_path, "py_http_actor_app.py", sidecar, events, "reentrant-app",
                     {"ACTOR_REENTRANCY": "1", "APP_NAME": "r"})
    procs = [sidecar, app, scheduler]
    try:
        await scheduler.wait_ready()
        sidecar.start()
        await sidecar.wait_ready()
        app.start()
        await eventually(lambda: _hosted(sidecar), 60, what="type hosted", watch=procs)
        url = f"{sidecar.base}/v1.0/actors/DemoActor/loop/method/CallSelf"
        async with httpx.AsyncClient(timeout=60) as client:
            ok = await client.post(url, content=b"2")
            assert ok.status_code == 200, ok.text
            assert ok.json()["app"] == "r"
            too_deep = await client.post(url, content=b"6")  # maxStackDepth is 4
            assert too_deep.status_code == 500
            assert too_deep.json()["errorCode"] == "ERR_ACTOR_INVOKE_METHOD"
            assert "maximum stack depth exceeded" in too_deep.text
            again = await client.post(url, content=b"1")  # the actor is free again afterwards
            assert again.status_code == 200
    finally:
        for proc in (app, sidecar, scheduler):
            proc.stop()


async def _hosted(sidecar: SidecarProcess) -> bool:
    return "DemoActor" in await sidecar.hosted_types()

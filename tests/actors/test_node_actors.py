"""A Node ``@dapr/dapr`` 3.18 HTTP actor app (installed with npm by ``make test``) on a daprjobs sidecar."""

from __future__ import annotations

import json
import pathlib
import shutil
import uuid

import httpx
import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port

from tests.support.daprjobs_processes import SchedulerProcess, SidecarProcess
from tests.support.processes import ChildProcess, child_env
from tests.support.resources import write_actor_state_store

from .sdk_apps import NODE_DIR, Events

pytestmark = pytest.mark.slow


def node_ready() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (NODE_DIR / "node_modules" / "@dapr" / "dapr").is_dir():
        return "@dapr/dapr is not installed: run `make test` (it runs npm install in tests/node) or npm install there"
    return None


@pytest.mark.skipif(node_ready() is not None, reason=str(node_ready()))
async def test_node_actor_registers_a_reminder_and_receives_its_json_data(
    etcd: EtcdProcess, tmp_path: pathlib.Path
) -> None:
    tmp = tmp_path
    scheduler = SchedulerProcess(tmp, etcd.endpoint, f"s{uuid.uuid4().hex[:8]}", lease_ttl_s=3).start()
    resources = write_actor_state_store(tmp / "resources", etcd.endpoint)
    sidecar = SidecarProcess(tmp, "nodeapp", scheduler.address, resources_path=resources, app_port=free_port())
    events = Events(tmp / "events.jsonl")
    actor_id = f"n-{uuid.uuid4().hex[:6]}"
    app = ChildProcess("node-app", [str(shutil.which("node")), str(NODE_DIR / "actor_app.js")], tmp / "node.log",
                       child_env(**sidecar.app_env(), ACTOR_EVENTS_FILE=str(events.path), NODE_ACTOR_ID=actor_id),
                       cwd=NODE_DIR)
    procs: list[ChildProcess] = [sidecar, app, scheduler]
    try:
        await scheduler.wait_ready()
        sidecar.start()
        await sidecar.wait_ready()
        app.start()
        fired = await events.wait("reminder", count=2, actor=actor_id, timeout=90, watch=procs)
        assert all(e["data"] == {"hello": "node", "n": [1, 2]} for e in fired)
        async with httpx.AsyncClient(timeout=10) as client:
            got = await client.get(f"{sidecar.base}/v1.0/actors/NodeActor/{actor_id}/reminders/node-ping")
            assert got.status_code == 200
            # Node sends Go durations and plain JSON data; both come back as stored.
            assert got.json() == {"actorID": actor_id, "actorType": "NodeActor",
                                  "data": json.dumps({"hello": "node", "n": [1, 2]}, separators=(",", ":")),
                                  "dueTime": "0s", "period": "@every 1s"}
            stop = await client.post(f"{sidecar.base}/v1.0/actors/NodeActor/{actor_id}/method/stopPing",
                                     content=json.dumps(["node-ping"]))
            assert stop.status_code == 200, stop.text
            gone = await client.get(f"{sidecar.base}/v1.0/actors/NodeActor/{actor_id}/reminders/node-ping")
            assert gone.status_code == 404
    finally:
        for proc in (app, sidecar, scheduler):
            proc.stop()

"""The Node ``@dapr/dapr`` 3.18 SDK (installed with npm by ``make test``) against a daprjobs sidecar: its DaprServer
subscribes through ``/dapr/subscribe`` and receives what its DaprClient publishes; the same client saves, reads, bulk
reads, transacts and deletes state."""

from __future__ import annotations

import json
import pathlib
import shutil
import uuid

import pytest
from daprjobs.components.pubsub.redisserver import RedisServerProcess
from daprjobs.etcd.embedded import EtcdProcess, free_port

from tests.support.daprjobs_processes import SchedulerProcess, SidecarProcess
from tests.support.processes import ChildProcess, child_env
from tests.support.waiting import eventually

NODE_DIR = pathlib.Path(__file__).resolve().parents[2] / "node"

pytestmark = pytest.mark.slow


def node_ready() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (NODE_DIR / "node_modules" / "@dapr" / "dapr").is_dir():
        return "@dapr/dapr is not installed: run `make test` (it runs npm install in tests/node) or npm install there"
    return None


def write_components(directory: pathlib.Path, etcd_endpoint: str, redis_address: str) -> pathlib.Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "components.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.etcd\n"
        f"  version: v2\n  metadata:\n  - name: endpoints\n    value: {etcd_endpoint.split('://', 1)[-1]}\n"
        "---\n"
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n  type: pubsub.redis\n"
        f"  version: v1\n  metadata:\n  - name: redisHost\n    value: {redis_address}\n")
    return directory


def events(path: pathlib.Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def of(path: pathlib.Path, kind: str) -> list[dict[str, object]]:
    return [e for e in events(path) if e["kind"] == kind]


@pytest.mark.skipif(node_ready() is not None, reason=str(node_ready()))
async def test_node_sdk_publishes_subscribes_and_keeps_state(etcd: EtcdProcess, module_redis: RedisServerProcess,
                                                             tmp_path: pathlib.Path) -> None:
    scheduler = SchedulerProcess(tmp_path, etcd.endpoint, f"s{uuid.uuid4().hex[:8]}", lease_ttl_s=3).start()
    resources = write_components(tmp_path / "resources", etcd.endpoint, module_redis.address)
    sidecar = SidecarProcess(tmp_path, "nodepubsub", scheduler.address, resources_path=resources,
                             app_port=free_port())
    log = tmp_path / "node-events.jsonl"
    topic = f"node-{uuid.uuid4().hex[:8]}"
    app = ChildProcess("node-app", [str(shutil.which("node")), str(NODE_DIR / "pubsub_state_app.js")],
                       tmp_path / "node.log", child_env(**sidecar.app_env(), NODE_EVENTS_FILE=str(log),
                                                       NODE_TOPIC=topic), cwd=NODE_DIR)
    procs: list[ChildProcess] = [sidecar, app, scheduler]
    try:
        await scheduler.wait_ready()
        sidecar.start()
        await sidecar.wait_ready()
        app.start()
        await eventually(lambda: len(of(log, "message")) >= 3 or of(log, "error"), 90,
                         what="the Node app's three messages", watch=procs)
    finally:
        for proc in (app, sidecar, scheduler):
            proc.stop()
    assert of(log, "error") == [], of(log, "error")
    assert sorted(e["data"]["order"] for e in of(log, "message")) == [1, 2, 3]  # type: ignore[index]
    assert of(log, "state-get")[0]["value"] == {"n": 1, "who": "node"}
    assert of(log, "state-bulk")[0]["items"] == [{"key": "node-k1", "data": {"n": 1, "who": "node"}},
                                                 {"key": "node-k2", "data": "two"}]
    after = of(log, "state-after-transaction")[0]
    assert after["k3"] == {"n": 3} and after["k2"] in (None, "")
    assert of(log, "state-after-delete")[0]["k1"] in (None, "")

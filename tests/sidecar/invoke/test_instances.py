"""Several instances of one app: round robin, withdrawal on stop, and a ``kill -9``ed sidecar mid-call."""

from __future__ import annotations

import asyncio
import json
import pathlib
import signal
from collections import Counter

import aiohttp
import pytest
from daprjobs.etcd.embedded import EtcdProcess

from tests.support.daprjobs_processes import SidecarProcess
from tests.support.waiting import eventually

from .apps import EchoHttpApp
from .conftest import SidecarFactory, invoke_block, unique_id, wait_resolvable


async def served_by(session: aiohttp.ClientSession, port: int, app_id: str, method: str = "who") -> tuple[int, str]:
    async with session.get(f"http://127.0.0.1:{port}/v1.0/invoke/{app_id}/method/{method}") as resp:
        body = await resp.read()
        if resp.status != 200:
            return resp.status, body.decode()
        return resp.status, json.loads(body)["app"]


async def test_round_robin_then_withdrawal_on_stop(make_sidecar: SidecarFactory) -> None:
    apps = [EchoHttpApp("one"), EchoHttpApp("two")]
    for app in apps:
        await app.start()
    try:
        target_id = unique_id("scaled")
        first = await make_sidecar(target_id, app_port=apps[0].port)
        await make_sidecar(target_id, app_port=apps[1].port)
        caller = await make_sidecar(unique_id("caller"))
        await wait_resolvable(caller, target_id, count=2)
        async with aiohttp.ClientSession() as session:
            answers = [await served_by(session, caller.http_port, target_id) for _ in range(10)]
            assert Counter(answers) == Counter({(200, "one"): 5, (200, "two"): 5})
            await first.stop()
            registry = invoke_block(caller).invoker.registry
            assert registry is not None
            assert len(registry.live("default", target_id)) <= 2
            answers = [await served_by(session, caller.http_port, target_id) for _ in range(4)]
            assert answers == [(200, "two")] * 4
    finally:
        for app in apps:
            await app.stop()


def etcd_resources(tmp_path: pathlib.Path, etcd: EtcdProcess) -> pathlib.Path:
    """A state.etcd component naming the etcd: how a standalone ``daprjobs sidecar`` finds name resolution."""
    directory = tmp_path / "resources"
    directory.mkdir(exist_ok=True)
    (directory / "statestore.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.etcd\n"
        f"  version: v2\n  metadata:\n  - name: endpoints\n    value: {etcd.endpoint.removeprefix('http://')}\n"
        "  - name: actorStateStore\n    value: \"true\"\n")
    return directory


@pytest.mark.timeout(120)
async def test_kill_9_of_a_target_sidecar_mid_call(make_sidecar: SidecarFactory, module_etcd: EtcdProcess,
                                                   tmp_path: pathlib.Path) -> None:
    apps = [EchoHttpApp("one"), EchoHttpApp("two")]
    for app in apps:
        await app.start()
    target_id = unique_id("killed")
    resources = etcd_resources(tmp_path, module_etcd)
    procs = [SidecarProcess(tmp_path, target_id, "", app_port=app.port, resources_path=resources) for app in apps]
    try:
        for proc in procs:
            proc.start()
        for proc in procs:
            await proc.wait_ready()
        caller = await make_sidecar(unique_id("caller"))
        await wait_resolvable(caller, target_id, count=2)
        async with aiohttp.ClientSession() as session:
            # Find which sidecar the next call goes to, start a slow call there, kill that sidecar under it.
            _, first_app = await served_by(session, caller.http_port, target_id)
            victim = procs[1] if first_app == "one" else procs[0]
            survivor_app = "one" if victim is procs[1] else "two"
            slow = asyncio.create_task(served_by(session, caller.http_port, target_id, "slow"))
            victim_app = apps[procs.index(victim)]
            await eventually(lambda: any(c["path"] == "/slow" for c in victim_app.calls), 20, "slow call reached")
            victim.signal(signal.SIGKILL)
            status, message = await slow
            assert status == 500
            assert f"failed to invoke, id: {target_id}" in message
            answers = [await served_by(session, caller.http_port, target_id) for _ in range(4)]
            assert answers == [(200, survivor_app)] * 4
    finally:
        for proc in procs:
            proc.stop()
        for app in apps:
            await app.stop()

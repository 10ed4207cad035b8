"""What counts as success when the app answers (wire-compat §C.3) and how the failure policy follows."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.support.apps import HttpJobApp
from tests.support.inprocess import StackFactory


async def post_job(http_url: str, name: str, body: dict[str, object]) -> None:
    async with aiohttp.ClientSession() as session, session.post(f"{http_url}/v1.0/jobs/{name}", json=body) as r:
        assert r.status == 204, await r.text()


async def test_app_answers_drive_acks(make_stack: StackFactory, http_app: HttpJobApp) -> None:
    stack = await make_stack("outcomes", app_port=http_app.port)
    http_app.statuses["gone"] = [404]             # NotFound: success, never retried
    http_app.statuses["flaky"] = [500, 503]       # failures: retried per the default policy (1 s x 3)
    http_app.statuses["dropped"] = [500]          # drop policy: no retry
    http_app.statuses["accepted"] = [202]         # any 2xx is success
    await post_job(stack.http_url, "gone", {"dueTime": "0s"})
    await post_job(stack.http_url, "flaky", {"dueTime": "0s"})
    await post_job(stack.http_url, "dropped", {"dueTime": "0s", "failurePolicy": {"drop": {}}})
    await post_job(stack.http_url, "accepted", {"dueTime": "0s"})
    await http_app.wait_for("flaky", 3)
    await http_app.wait_for("gone")
    await http_app.wait_for("dropped")
    await http_app.wait_for("accepted")
    await asyncio.sleep(4)  # longer than the default retry interval: any retry would have arrived
    assert len(http_app.named("gone")) == 1
    assert len(http_app.named("flaky")) == 3  # 500, 503, then 200 ends it
    assert len(http_app.named("dropped")) == 1
    assert len(http_app.named("accepted")) == 1
    async with aiohttp.ClientSession() as session, session.get(f"{stack.http_url}/v1.0/jobs/flaky") as r:
        assert r.status == 500  # a delivered one-shot job is gone


async def test_constant_policy_retries_until_max(make_stack: StackFactory, http_app: HttpJobApp) -> None:
    stack = await make_stack("retries", app_port=http_app.port)
    http_app.statuses["always-fails"] = [500] * 10
    await post_job(stack.http_url, "always-fails", {
        "dueTime": "0s", "failurePolicy": {"constant": {"interval": "0.2s", "maxRetries": 2}}})
    await http_app.wait_for("always-fails", 3)
    await asyncio.sleep(2)
    assert len(http_app.named("always-fails")) == 3  # the first try and 2 retries


async def test_metrics_count_deliveries(make_stack: StackFactory, http_app: HttpJobApp) -> None:
    from daprjobs.etcd.embedded import free_port

    stack = await make_stack("metered", app_port=http_app.port, metrics_port=free_port())
    await post_job(stack.http_url, "counted", {"dueTime": "0s"})
    await http_app.wait_for("counted")
    assert stack.sidecar.metrics_port is not None
    async with aiohttp.ClientSession() as session, \
            session.get(f"http://127.0.0.1:{stack.sidecar.metrics_port}/metrics") as resp:
        text = await resp.text()
    assert resp.status == 200
    assert 'daprjobs_sidecar_job_triggers_total{app_id="metered",outcome="success",target="job"} 1.0' in text
    assert 'daprjobs_sidecar_scheduler_streams{app_id="metered"} 3.0' in text

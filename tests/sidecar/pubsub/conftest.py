"""Pub/sub sidecar fixtures: a real redis-server per module, real etcd, an in-process scheduler and sidecars that
serve the jobs and pub/sub blocks, with a resources directory naming the redis as ``pubsub``."""

from __future__ import annotations

import pathlib
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from daprjobs.components.pubsub.redisserver import RedisServerProcess
from daprjobs.etcd.embedded import EtcdProcess
from daprjobs.sidecar.block import BuildingBlock, SidecarServices
from daprjobs.sidecar.config import SidecarConfig, load_resources
from daprjobs.sidecar.jobs.block import JobsBlock
from daprjobs.sidecar.pubsub.block import PubSubBlock
from daprjobs.sidecar.server import Sidecar

from tests.support.inprocess import InProcessStack, start_stack, stop_stacks
from tests.support.sdk import point_sdk_at

# Redelivery within a second, so RETRY tests do not wait the default minute.
FAST_REDELIVERY = {"processingTimeout": "1s", "redeliverInterval": "300ms"}


def jobs_and_pubsub(services: SidecarServices) -> list[BuildingBlock]:
    return [JobsBlock(services), PubSubBlock(services)]


def write_resources(directory: pathlib.Path, redis_address: str, extra_yaml: str = "",
                    **component_metadata: str) -> pathlib.Path:
    directory.mkdir(parents=True, exist_ok=True)
    meta = {"redisHost": redis_address, "redisPassword": "", **FAST_REDELIVERY, **component_metadata}
    items = "".join(f"\n    - name: {k}\n      value: \"{v}\"" for k, v in meta.items())
    (directory / "pubsub.yaml").write_text(textwrap.dedent("""\
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: pubsub
        spec:
          type: pubsub.redis
          version: v1
          metadata:""") + items + "\n")
    if extra_yaml:
        (directory / "subscriptions.yaml").write_text(textwrap.dedent(extra_yaml))
    return directory


SidecarFactory = Callable[..., Awaitable[InProcessStack]]


@pytest.fixture
async def make_sidecar(module_etcd: EtcdProcess, module_redis: RedisServerProcess, tmp_path: pathlib.Path,
                       monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SidecarFactory]:
    """``await make_sidecar(app_id, resources=dir | None, **SidecarConfig overrides)``: scheduler + sidecar.

    SDK clients made afterwards find the newest sidecar through ``DAPR_HTTP_PORT``/``DAPR_GRPC_PORT``.
    """
    monkeypatch.delenv("DAPR_API_TOKEN", raising=False)
    stacks: list[InProcessStack] = []

    async def make(app_id: str, resources: pathlib.Path | None = None, **overrides: Any) -> InProcessStack:
        resources = resources or write_resources(tmp_path / f"res-{app_id}-{len(stacks)}", module_redis.address)
        shared = overrides.pop("scheduler_of", None)
        stack = await start_stack(module_etcd, app_id, resources_path=resources,
                                  resources=load_resources(resources), **overrides)
        if shared is not None:
            # Share another stack's scheduler (delayed publish through any sidecar of the app).
            await stack.stop_scheduler()
            stack.sidecar.config.scheduler_host_addresses[:] = [f"127.0.0.1:{shared.scheduler_port}"]
        stack.sidecar = Sidecar(stack.sidecar.config, blocks=jobs_and_pubsub)
        stacks.append(stack)
        await stack.sidecar.start()
        point_sdk_at(monkeypatch, stack.sidecar.http_port, stack.sidecar.grpc_port)
        return stack

    try:
        yield make
    finally:
        await stop_stacks(stacks)


@pytest.fixture
async def redis_client(module_redis: RedisServerProcess) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis(host=module_redis.host, port=module_redis.port)
    try:
        yield client
    finally:
        await client.aclose()


def sidecar_config(stack: InProcessStack) -> SidecarConfig:
    return stack.sidecar.config

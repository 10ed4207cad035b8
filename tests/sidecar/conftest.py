"""Sidecar test fixtures: a real etcd, a real in-process scheduler replica, the real sidecar, real apps."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.scheduler.server import SchedulerReplica
from daprjobs.sidecar.config import SidecarConfig
from daprjobs.sidecar.server import Sidecar

from .harness import GrpcJobApp, HttpJobApp, Stack, StackFactory, scheduler_config


@pytest.fixture
async def make_stack(module_etcd: EtcdProcess) -> AsyncIterator[StackFactory]:
    """``await make_stack(app_id, **SidecarConfig overrides)``: replica + sidecar, stopped at teardown."""
    stacks: list[Stack] = []

    async def make(app_id: str, **overrides: Any) -> Stack:
        prefix = "t" + uuid.uuid4().hex[:10]
        port = free_port()
        replica = SchedulerReplica(scheduler_config(module_etcd, prefix, port))
        await replica.start()
        settings: dict[str, Any] = {
            "app_id": app_id, "dapr_http_port": free_port(), "dapr_grpc_port": free_port(),
            "scheduler_host_addresses": [replica.address], "metrics_port": None,
            "etcd_endpoints": [module_etcd.endpoint], "app_health_probe_interval_s": 0.5,
        }
        settings.update(overrides)
        sidecar = Sidecar(SidecarConfig(**settings), enable_actors=False)
        stack = Stack(etcd=module_etcd, key_prefix=prefix, scheduler_port=port, replica=replica, sidecar=sidecar)
        stacks.append(stack)
        await sidecar.start()
        return stack

    try:
        yield make
    finally:
        hung: list[str] = []
        for stack in reversed(stacks):
            for part, stop in (("sidecar", stack.sidecar.stop), ("scheduler", stack.stop_scheduler)):
                try:
                    await asyncio.wait_for(stop(), 60)
                except TimeoutError:
                    hung.append(f"{part} of {stack.sidecar.config.app_id}")
                except Exception:
                    pass
        assert not hung, f"did not stop within 60 s: {hung}"


@pytest.fixture
async def http_app() -> AsyncIterator[HttpJobApp]:
    app = HttpJobApp()
    await app.start()
    try:
        yield app
    finally:
        await asyncio.wait_for(app.stop(), 60)


@pytest.fixture
def grpc_app_factory() -> Iterator[Callable[[list[str]], GrpcJobApp]]:
    apps: list[GrpcJobApp] = []

    def make(names: list[str]) -> GrpcJobApp:
        app = GrpcJobApp(names)
        app.start()
        apps.append(app)
        return app

    try:
        yield make
    finally:
        for app in apps:
            app.stop()

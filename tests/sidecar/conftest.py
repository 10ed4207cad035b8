"""Sidecar test fixtures: a real etcd, a real in-process scheduler replica, the real sidecar, real apps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from daprjobs.etcd.embedded import EtcdProcess

from tests.support.apps import GrpcJobApp, HttpJobApp
from tests.support.inprocess import InProcessStack, StackFactory, start_stack, stop_stacks


@pytest.fixture
async def make_stack(module_etcd: EtcdProcess) -> AsyncIterator[StackFactory]:
    """``await make_stack(app_id, **SidecarConfig overrides)``: replica + sidecar, stopped at teardown."""
    stacks: list[InProcessStack] = []

    async def make(app_id: str, **overrides: Any) -> InProcessStack:
        stack = await start_stack(module_etcd, app_id, **overrides)
        stacks.append(stack)
        await stack.sidecar.start()
        return stack

    try:
        yield make
    finally:
        await stop_stacks(stacks)


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

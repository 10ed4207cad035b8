"""Invocation fixtures: in-process sidecars serving only the invoke block, all on one real etcd; real apps."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.sidecar.block import BuildingBlock, SidecarServices
from daprjobs.sidecar.config import SidecarConfig
from daprjobs.sidecar.invoke.block import InvokeBlock
from daprjobs.sidecar.server import Sidecar

from tests.support.waiting import eventually

from .apps import EchoHttpApp, GrpcInvokeApp

LEASE_TTL_S = 2
SidecarFactory = Callable[..., Awaitable[Sidecar]]


def invoke_only(services: SidecarServices) -> list[BuildingBlock]:
    return [InvokeBlock(services, lease_ttl_s=LEASE_TTL_S)]


def unique_id(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:6]}"


def invoke_block(sidecar: Sidecar) -> InvokeBlock:
    return next(b for b in sidecar.blocks if isinstance(b, InvokeBlock))


async def wait_resolvable(sidecar: Sidecar, app_id: str, count: int = 1, namespace: str = "default") -> None:
    """Until ``sidecar``'s name resolution lists ``count`` live instances of ``app_id``."""
    registry = invoke_block(sidecar).invoker.registry
    assert registry is not None

    def enough() -> bool:
        return len(registry.live(namespace, app_id)) >= count

    await eventually(enough, 20, f"{count} instance(s) of {app_id} resolvable")


@pytest.fixture
async def make_sidecar(module_etcd: EtcdProcess) -> AsyncIterator[SidecarFactory]:
    """``await make_sidecar(app_id, **SidecarConfig overrides)``: a started sidecar, stopped at teardown."""
    sidecars: list[Sidecar] = []

    async def make(app_id: str, **overrides: Any) -> Sidecar:
        settings: dict[str, Any] = {
            "app_id": app_id, "dapr_http_port": free_port(), "dapr_grpc_port": free_port(),
            "metrics_port": None, "etcd_endpoints": [module_etcd.endpoint], "app_health_probe_interval_s": 0.5,
        }
        settings.update(overrides)
        sidecar = Sidecar(SidecarConfig(**settings), blocks=invoke_only)
        sidecars.append(sidecar)
        await sidecar.start()
        return sidecar

    try:
        yield make
    finally:
        for sidecar in reversed(sidecars):
            await asyncio.wait_for(sidecar.stop(), 60)


@pytest.fixture
async def echo_app() -> AsyncIterator[EchoHttpApp]:
    app = EchoHttpApp()
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


@pytest.fixture
def grpc_app() -> Iterator[GrpcInvokeApp]:
    app = GrpcInvokeApp()
    app.start()
    try:
        yield app
    finally:
        app.stop()

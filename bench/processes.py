"""Child processes of a bench run, with cleanup that happens however the run ends.

Every child is started in its own session (so a stop reaches the whole process group, e.g. a scheduler's own etcd
child) and, where util-linux ``setpriv`` exists, with a parent-death signal (so a ``kill -9`` of the harness still
takes its children down). The signal is set by ``setpriv`` after the fork rather than by a ``preexec_fn``: the
harness holds gRPC channels with their own threads, and running Python between fork and exec in such a process can
deadlock the child (it did, for py-spy children). The
``ProcessSupervisor`` stops everything it started, newest first, on exit from its ``with`` block; SIGTERM and SIGINT
to the harness become ``SystemExit`` so that those blocks run.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType

log = logging.getLogger(__name__)

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent

_SETPRIV = shutil.which("setpriv")


def _die_with_parent(argv: list[str]) -> list[str]:
    """``argv`` run so that Linux SIGKILLs it when the harness dies (unchanged where setpriv is missing)."""
    return [_SETPRIV, "--pdeathsig", "KILL", "--", *argv] if _SETPRIV else argv


@dataclass
class ManagedProcess:
    name: str
    argv: list[str]
    log_path: pathlib.Path
    env: dict[str, str] | None = None
    cwd: pathlib.Path | None = None
    _popen: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            out.write(f"$ {' '.join(self.argv)}\n".encode())
            out.flush()
            self._popen = subprocess.Popen(
                _die_with_parent(self.argv),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        log.info("started name=%s pid=%s", self.name, self._popen.pid)
        return self

    @property
    def pid(self) -> int:
        if self._popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._popen.pid

    @property
    def alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self._popen is None else self._popen.poll()

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the child's whole process group."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM the group, then SIGKILL whatever is left after ``timeout``; returns the exit code."""
        if self._popen is None:
            return None
        if self._popen.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("did not stop on SIGTERM, killing name=%s pid=%s", self.name, self.pid)
        # The leader may have exited while a grandchild lingers: sweep the group either way.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(5)
        return self._popen.poll()

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self._popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(5)

    def wait(self, timeout: float | None = None) -> int:
        if self._popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._popen.wait(timeout)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def child_env(**extra: str) -> dict[str, str]:
    """The environment for bench children: this repo importable (``bench.*``), unbuffered output."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class ProcessSupervisor:
    """Owns the children of one scenario; ``with`` guarantees they are all stopped."""

    def __init__(self, log_dir: pathlib.Path) -> None:
        self.log_dir = log_dir
        self._stack = contextlib.ExitStack()
        self.processes: list[ManagedProcess] = []

    def start(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str] | None = None,
        cwd: pathlib.Path | None = None,
    ) -> ManagedProcess:
        proc = ManagedProcess(name, argv, self.log_dir / f"{name}.log", env=env, cwd=cwd)
        # Register the stop before starting, so a failure during start still cleans up.
        self._stack.callback(proc.stop)
        self.processes.append(proc)
        return proc.start()

    def callback(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` at cleanup (in reverse order with the process stops)."""
        self._stack.callback(fn)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> ProcessSupervisor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@contextlib.contextmanager
def signals_raise_system_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit for the duration, so ``with`` blocks (and their cleanups) unwind."""

    def _raise(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class PortAllocator:
    """Free loopback ports, never the same one twice in a run (the OS may hand out a port twice until bound)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._given: set[int] = set()

    def take(self) -> int:
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((self.host, 0))
                port = int(s.getsockname()[1])
            if port not in self._given:
                self._given.add(port)
                return port
        raise RuntimeError("no free port found")


def tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= int(resp.status) < 300
    except (OSError, ValueError):
        return False


def wait_until(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    interval: float = 0.05,
    watch: list[ManagedProcess] | None = None,
) -> float:
    """Poll ``predicate`` until true; returns seconds waited. Fails early, with its log, if a watched child exits."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        if predicate():
            return time.monotonic() - start
        for proc in watch or []:
            if not proc.alive:
                raise RuntimeError(
                    f"{proc.name} exited with code {proc.returncode} while waiting for {what}; "
                    f"log {proc.log_path}:\n{proc.log_tail()}"
                )
        if time.monotonic() >= deadline:
            tails = "".join(f"\n--- {p.name} ({p.log_path}):\n{p.log_tail()}" for p in watch or [])
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{tails}")
        time.sleep(interval)

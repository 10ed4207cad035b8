"""Child processes with a log file each and a clean stop, however the run ends; free ports; readiness probes.

Every child is started in its own session (so a stop reaches the whole process group, e.g. a scheduler's own etcd
child) and, where util-linux ``setpriv`` exists, with a parent-death signal (so a ``kill -9`` of the test run or the
bench still takes its children down). The signal is set by ``setpriv`` after the fork rather than by a
``preexec_fn``: the parent holds gRPC channels with their own threads, and running Python between fork and exec in
such a process can deadlock the child (it did, for py-spy children). A ``ProcessSupervisor`` stops everything it
started, newest first, on exit from its ``with`` block.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Self

log = logging.getLogger(__name__)

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

_SETPRIV = shutil.which("setpriv")


def _die_with_parent(argv: list[str]) -> list[str]:
    """``argv`` run so that Linux SIGKILLs it when its parent dies (unchanged where setpriv is missing)."""
    return [_SETPRIV, "--pdeathsig", "KILL", "--", *argv] if _SETPRIV else argv


def child_env(**extra: str) -> dict[str, str]:
    """The environment for children: this environment, the repo importable (``bench.*``), unbuffered output."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class ChildProcess:
    """One child process (group) writing stdout and stderr to ``log_path``."""

    def __init__(self, name: str, argv: list[str], log_path: pathlib.Path, env: dict[str, str] | None = None,
                 cwd: pathlib.Path | None = None) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.env = child_env() if env is None else env
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            out.write(f"$ {' '.join(self.argv)}\n".encode())
            out.flush()
            self._popen = subprocess.Popen(_die_with_parent(self.argv), stdout=out, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, env=self.env, cwd=self.cwd,
                                           start_new_session=True)
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

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the child alone, as a user's ``kill`` or Ctrl-C would (its own children are its job)."""
        if self._popen is not None and self._popen.poll() is None:
            self._popen.send_signal(sig)

    def terminate(self) -> None:
        """SIGTERM to the group, without waiting (see ``wait_exit``)."""
        self.signal(signal.SIGTERM)

    def stop(self, timeout: float = 15.0) -> int | None:
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
        """``kill -9`` of the group: no goodbye."""
        self.signal(signal.SIGKILL)
        if self._popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(10)

    def wait(self, timeout: float | None = None) -> int:
        if self._popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._popen.wait(timeout)

    async def wait_exit(self, timeout: float = 15.0) -> int:
        return await asyncio.wait_for(asyncio.to_thread(self.wait), timeout)

    def output(self) -> str:
        """Everything the child has written so far (the log without the command line it starts with)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return text.split("\n", 1)[1] if "\n" in text else ""

    def wait_for_line(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """Block until a line of the output matches ``pattern``; fail with the output if none does in time."""
        deadline = time.monotonic() + timeout
        while True:
            exited = not self.alive  # before reading, so the last lines of a child that just exited are seen
            for line in self.output().splitlines():
                match = re.search(pattern, line)
                if match:
                    return match
            if exited or time.monotonic() >= deadline:
                raise AssertionError(f"{self.name}: no line matching {pattern!r}; output:\n{self.output()}")
            time.sleep(0.05)

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """Wait for the child to exit by itself; its exit code and output."""
        code = self.wait(timeout)
        return code, self.output()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class ProcessSupervisor:
    """Owns the children of one test or scenario; ``with`` guarantees they are all stopped, newest first."""

    def __init__(self, log_dir: pathlib.Path) -> None:
        self.log_dir = log_dir
        self._stack = contextlib.ExitStack()
        self.processes: list[ChildProcess] = []

    def adopt(self, proc: ChildProcess) -> ChildProcess:
        """Take ``proc`` (not yet started) into care: it is stopped at cleanup."""
        # Register the stop before starting, so a failure during start still cleans up.
        self._stack.callback(proc.stop)
        self.processes.append(proc)
        return proc

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None,
              cwd: pathlib.Path | None = None) -> ChildProcess:
        return self.adopt(ChildProcess(name, argv, self.log_dir / f"{name}.log", env=env, cwd=cwd)).start()

    def callback(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` at cleanup (in reverse order with the process stops)."""
        self._stack.callback(fn)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> ProcessSupervisor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
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
    """Free loopback ports, never the same one twice (the OS may hand out a port twice until it is bound)."""

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


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The status a GET of ``url`` answers, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def http_ok(url: str, timeout: float = 1.0) -> bool:
    status = http_status(url, timeout)
    return status is not None and 200 <= status < 300

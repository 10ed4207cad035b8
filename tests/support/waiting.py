"""Waiting for a condition: ``eventually`` (async) and its blocking twin ``wait_until``, the only two in tests/ and
bench/.

Both poll a check until it returns something truthy. Processes named in ``watch`` make a failure say why: their log
tails are attached to a timeout, and one that was running when the wait began and exits during it ends the wait at
once. (A process already stopped when the wait begins, e.g. one a test killed on purpose, is only reported.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_INTERVAL_S = 0.05


class WaitTimedOut(AssertionError, TimeoutError):
    """The condition did not hold in time: an assertion failure to pytest, a ``TimeoutError`` to callers."""


class WatchedProcessExited(AssertionError, RuntimeError):
    """A process the wait depended on exited while waiting."""


class Watched(Protocol):
    """What a wait needs of a child process it watches (``tests.support.processes.ChildProcess`` is one)."""

    name: str
    log_path: Path

    @property
    def alive(self) -> bool: ...

    @property
    def returncode(self) -> int | None: ...

    def log_tail(self, lines: int = ...) -> str: ...


class _Watch:
    """The watched processes of one wait: which were running at its start, and how to report them."""

    def __init__(self, procs: Sequence[Watched], what: str) -> None:
        self.procs = list(procs)
        self.what = what
        self.running = [p for p in self.procs if p.alive]

    def check_running(self) -> None:
        for proc in self.running:
            if not proc.alive:
                raise WatchedProcessExited(
                    f"{proc.name} exited with code {proc.returncode} while waiting for {self.what}; "
                    f"log {proc.log_path}:\n{proc.log_tail()}")

    def timed_out(self, timeout: float, last: object) -> WaitTimedOut:
        tails = "".join(f"\n--- {p.name} ({p.log_path}):\n{p.log_tail()}" for p in self.procs)
        return WaitTimedOut(f"timed out after {timeout}s waiting for {self.what} (last: {last!r}){tails}")


async def eventually(check: Callable[[], Any | Awaitable[Any]], timeout: float = DEFAULT_TIMEOUT_S,
                     what: str = "condition", *, interval: float = DEFAULT_INTERVAL_S,
                     watch: Sequence[Watched] = ()) -> Any:
    """Poll ``check`` (sync, or returning an awaitable) until it returns something truthy, and return that."""
    watched = _Watch(watch, what)
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = check()
        if asyncio.iscoroutine(last) or asyncio.isfuture(last):
            last = await last
        if last:
            return last
        watched.check_running()
        if time.monotonic() >= deadline:
            raise watched.timed_out(timeout, last)
        await asyncio.sleep(interval)


def wait_until(check: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT_S, what: str = "condition", *,
               interval: float = DEFAULT_INTERVAL_S, watch: Sequence[Watched] = ()) -> float:
    """Block until ``check()`` is truthy; returns the seconds waited (the blocking twin of ``eventually``)."""
    watched = _Watch(watch, what)
    start = time.monotonic()
    deadline = start + timeout
    while True:
        last = check()
        if last:
            return time.monotonic() - start
        watched.check_running()
        if time.monotonic() >= deadline:
            raise watched.timed_out(timeout, last)
        time.sleep(interval)

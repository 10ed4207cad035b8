"""Fixtures for the command tests: commands run as child processes, each with its output in a log file."""

from __future__ import annotations

import itertools
import pathlib
from collections.abc import Callable, Iterator

import pytest

from tests.support.processes import REPO_ROOT, ChildProcess, child_env

CommandRunner = Callable[..., ChildProcess]


@pytest.fixture
def run_command(tmp_path: pathlib.Path) -> Iterator[CommandRunner]:
    """``run_command(argv, env=None)``: start ``argv`` in the repo (``kill -9``ed at the end if still running)."""
    started: list[ChildProcess] = []
    numbers = itertools.count(1)

    def run(argv: list[str], env: dict[str, str] | None = None) -> ChildProcess:
        name = f"command-{next(numbers)}"
        proc = ChildProcess(name, argv, tmp_path / f"{name}.log", env=child_env(**(env or {})), cwd=REPO_ROOT)
        started.append(proc)
        return proc.start()

    try:
        yield run
    finally:
        for proc in started:
            proc.kill()

"""Running a load client from the harness: a supervised child process whose result is its last stdout line."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from typing import Any

from tests.support.processes import ChildProcess, ProcessSupervisor, child_env

RESULT_MARK = "LOADGEN-RESULT "
_seq = itertools.count()


class LoadgenFailed(RuntimeError):
    pass


def start_loadgen(sup: ProcessSupervisor, kind: str, args: dict[str, Any]) -> ChildProcess:
    """Start a client without waiting for it (e.g. a feed running while the harness watches something else)."""
    argv = [sys.executable, "-m", "bench.loadgen", kind, json.dumps(args)]
    return sup.start(f"loadgen-{kind}-{next(_seq)}", argv, env=child_env())


def finish_loadgen(proc: ChildProcess, timeout: float = 900.0) -> dict[str, Any]:
    """Wait for a client started by ``start_loadgen`` and return its result."""
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.stop()
        raise LoadgenFailed(f"{proc.name} still running after {timeout:.0f}s; log {proc.log_path}") from None
    text = proc.log_path.read_text(errors="replace")
    for line in reversed(text.splitlines()):
        if line.startswith(RESULT_MARK):
            result: dict[str, Any] = json.loads(line[len(RESULT_MARK):])
            return result
    tail = "\n".join(text.splitlines()[-30:])
    raise LoadgenFailed(f"{proc.name} exited {code} without a result; log {proc.log_path}:\n{tail}")


def run_loadgen(sup: ProcessSupervisor, kind: str, args: dict[str, Any], timeout: float = 900.0) -> dict[str, Any]:
    return finish_loadgen(start_loadgen(sup, kind, args), timeout)

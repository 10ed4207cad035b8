"""Sampling profiles of product processes while a scenario measures (``python -m bench --profile``).

py-spy attaches to the running scheduler / sidecar by pid (no code change, no restart) and writes collapsed stacks;
``summarise`` turns them into the functions with the most samples, on-CPU-self and inclusive, which is the evidence
a hot-spot report needs. Flame graphs can be drawn from the same ``.txt`` files (e.g. ``flamegraph.pl``, speedscope).
"""

from __future__ import annotations

import contextlib
import logging
import pathlib
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

from tests.support.processes import ChildProcess, ProcessSupervisor

log = logging.getLogger(__name__)


def py_spy_binary() -> str | None:
    beside = pathlib.Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def summarise(collapsed: pathlib.Path, top: int = 25) -> dict[str, Any]:
    """Top functions by self samples and by inclusive samples from py-spy's raw (collapsed) output."""
    self_counts: Counter[str] = Counter()
    incl_counts: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        self_counts[_short(frames[-1])] += count
        for frame in {_short(f) for f in frames}:
            if not frame.startswith(_PLUMBING):
                incl_counts[frame] += count

    def pct(items: list[tuple[str, int]]) -> list[dict[str, Any]]:
        return [{"frame": f, "samples": c, "pct": round(100 * c / max(1, total), 1)} for f, c in items]

    return {"samples": total, "self": pct(self_counts.most_common(top)),
            "inclusive": pct(incl_counts.most_common(top)), "file": str(collapsed)}


# Frames at the root of every stack (event loop, thread start, entry points) say nothing in an inclusive ranking.
_PLUMBING = ("<module>", "main (", "run (runners.py)", "Runner.", "BaseEventLoop.", "Handle._run", "Thread.",
             "_run_module_as_main", "_run_code", "_worker (thread.py)", "_WorkItem.run")


def _short(frame: str) -> str:
    """``func (path/to/module.py:123)`` -> ``func (module.py)``: lines vary within a function, modules do not."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({pathlib.Path(path).name})" if path else name


@contextlib.contextmanager
def profiled(sup: ProcessSupervisor, targets: dict[str, int], out_dir: pathlib.Path, enabled: bool,
             into: dict[str, Any]) -> Iterator[None]:
    """Record ``targets`` (name -> pid) while the block runs; summaries land in ``into[name]``."""
    binary = py_spy_binary() if enabled else None
    if enabled and binary is None:
        log.warning("--profile: py-spy not found (pip install py-spy into the venv); not profiling")
    if binary is None:
        yield
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    spies: dict[str, tuple[ChildProcess, pathlib.Path]] = {}
    for name, pid in targets.items():
        out = out_dir / f"{name}.txt"
        argv = [binary, "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--nonblocking",
                "--output", str(out)]
        spies[name] = (sup.start(f"py-spy-{name}", argv), out)
    try:
        yield
    finally:
        for proc, _ in spies.values():
            proc.signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        for name, (proc, out) in spies.items():
            with contextlib.suppress(Exception):
                proc.wait(30)
            if out.exists():
                into[name] = summarise(out)
            else:
                log.warning("py-spy wrote no profile for %s; log %s", name, proc.log_path)


def record_for(pid: int, seconds: int, out: pathlib.Path) -> dict[str, Any] | None:
    """Profile ``pid`` for ``seconds`` right now (e.g. a process that is taking too long); None without py-spy."""
    binary = py_spy_binary()
    if binary is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [binary, "record", "--pid", str(pid), "--format", "raw", "--rate", "100", "--nonblocking",
            "--duration", str(seconds), "--output", str(out)]
    try:
        subprocess.run(argv, capture_output=True, timeout=seconds + 60, check=False)
    except subprocess.TimeoutExpired:
        return None
    return summarise(out) if out.exists() else None


def render(profiles: dict[str, dict[str, dict[str, Any]]], top: int = 12) -> str:
    """Text summary of ``details["profiles"]``: per phase and process, the frames with most self samples."""
    lines: list[str] = []
    for phase, per_proc in profiles.items():
        for name, summary in per_proc.items():
            lines.append(f"--- {phase} / {name}: {summary['samples']} samples ({summary['file']})")
            for row in summary["self"][:top]:
                lines.append(f"  {row['pct']:5.1f}%  self  {row['frame']}")
            for row in summary["inclusive"][:top]:
                lines.append(f"  {row['pct']:5.1f}%  incl  {row['frame']}")
    return "\n".join(lines)

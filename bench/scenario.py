"""What a scenario gets to work with (``bench/__main__.py`` lists the scenarios).

A scenario is a function ``run(ctx: ScenarioContext) -> None`` that starts what it needs under ``ctx.sup`` (stopped
when it returns or fails), and fills ``ctx.result`` with figures, each beside a ceiling measured in the same run.
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.deployment import BenchDeployment
from bench.procstat import UsageSampler, cpu_seconds
from bench.profiling import profiled
from bench.report import ScenarioResult
from tests.support.processes import PortAllocator, ProcessSupervisor


@dataclass(frozen=True)
class RunOptions:
    quick: bool = False
    # Multiplies every job count (smoke tests run the quick sizes with tiny counts); durations are not scaled.
    count_scale: float = 1.0
    workdir: pathlib.Path = pathlib.Path("/tmp/daprjobs-bench")
    # py-spy the scheduler and sidecar while the scenario measures (needs py-spy in the venv).
    profile: bool = False


@dataclass
class ScenarioContext:
    name: str
    opts: RunOptions
    sup: ProcessSupervisor
    ports: PortAllocator
    workdir: pathlib.Path
    result: ScenarioResult
    sampler: UsageSampler
    # Results of scenarios that already ran in this invocation (the peer reuses the trigger figure).
    earlier: dict[str, ScenarioResult] = field(default_factory=dict)

    def count(self, full: int, quick: int) -> int:
        """A job count for this run's size: ``full`` or ``quick``, times ``count_scale``, at least 1."""
        base = quick if self.opts.quick else full
        return max(1, math.ceil(base * self.opts.count_scale))

    def seconds(self, full: float, quick: float) -> float:
        return quick if self.opts.quick else full

    def stack(self, label: str = "") -> BenchDeployment:
        return BenchDeployment(self.sup, self.ports, self.workdir, label=label)

    def watch_usage(self, stack: BenchDeployment) -> None:
        """Sample CPU and RSS of every product process in ``stack`` from now on."""
        for proc in stack.watched():
            if not proc.name.startswith("loadgen"):
                self.sampler.watch(proc.name, proc.pid)

    @contextmanager
    def profile(self, phase: str, stack: BenchDeployment) -> Iterator[dict[str, float]]:
        """Measure a phase: CPU seconds each product process spent in it (always; yielded, and kept in
        ``details["cpu"][phase]``), and with ``--profile`` a py-spy profile of the schedulers, sidecars and apps."""
        procs = {p.name: p.pid for p in stack.watched() if not p.name.startswith(("loadgen", "py-spy"))}
        targets = {n: pid for n, pid in procs.items()
                   if n.removeprefix(stack.label).split("-")[0] in ("scheduler", "sidecar", "app", "actor")}
        into: dict[str, Any] = self.result.details.setdefault("profiles", {}).setdefault(phase, {})
        cpu: dict[str, float] = self.result.details.setdefault("cpu", {}).setdefault(phase, {})
        before = {n: cpu_seconds(pid) for n, pid in procs.items()}
        try:
            with profiled(self.sup, targets, self.workdir / "profiles" / phase, self.opts.profile, into):
                yield cpu
        finally:
            for n, pid in procs.items():
                cpu[n] = round(cpu_seconds(pid) - before[n], 3)

    def note(self, text: str) -> None:
        self.result.notes.append(text)

    def detail(self, key: str, value: Any) -> None:
        self.result.details[key] = value


ScenarioFn = Callable[[ScenarioContext], None]

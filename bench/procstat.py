"""Memory and CPU of bench children, read from /proc (Linux only, as the bench is).

RSS is what the issue's memory target is written in; CPU seconds per process show where a scenario's time went
(the scheduler, the sidecar, the app or etcd) without a profiler attached.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident set size now (VmRSS), 0 if the process is gone."""
    return _status_kb(pid, "VmRSS") * 1024


def peak_rss_bytes(pid: int) -> int:
    """High-water mark of the resident set (VmHWM), 0 if the process is gone."""
    return _status_kb(pid, "VmHWM") * 1024


def _status_kb(pid: int, field_name: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used, in seconds (0 if gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            raw = f.read()
    except OSError:
        return 0.0
    # The command name (field 2) may contain spaces; fields after its closing paren are fixed.
    after = raw[raw.rindex(")") + 2 :].split()
    utime, stime = int(after[11]), int(after[12])
    return (utime + stime) / _CLK_TCK


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


@dataclass
class ProcessUsage:
    name: str
    pid: int
    cpu_start: float
    cpu_end: float = 0.0
    rss_max: int = 0
    rss_last: int = 0

    @property
    def cpu_s(self) -> float:
        return max(0.0, self.cpu_end - self.cpu_start)

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "name": self.name,
            "cpu_s": round(self.cpu_s, 2),
            "rss_max_mib": round(self.rss_max / 2**20, 1),
            "rss_last_mib": round(self.rss_last / 2**20, 1),
        }


@dataclass
class UsageSampler:
    """Samples RSS of named pids on a background thread; CPU is the difference between start and stop."""

    interval_s: float = 0.25
    usages: dict[str, ProcessUsage] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def watch(self, name: str, pid: int) -> None:
        with self._lock:
            self.usages[name] = ProcessUsage(name, pid, cpu_seconds(pid))

    def start(self) -> UsageSampler:
        self._thread = threading.Thread(target=self._run, name="usage-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def sample(self) -> None:
        with self._lock:
            for usage in self.usages.values():
                rss = rss_bytes(usage.pid)
                if rss:
                    usage.rss_last = rss
                    usage.rss_max = max(usage.rss_max, rss)
                cpu = cpu_seconds(usage.pid)
                if cpu:
                    usage.cpu_end = cpu

    def stop(self) -> dict[str, ProcessUsage]:
        self.sample()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        return dict(self.usages)

"""What a bench run produces: figures beside their ceilings, one table on stdout, one JSON file.

The machine is shared and noisy, so a raw figure means little on its own; every ``Figure`` carries the ceiling
measured in the same run and the ratio between them. Targets from issue 5 are checked here so the table says
plainly which ones were met.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class Figure:
    """One measured number, its ceiling (if it has one) and the target it is held to (if any)."""

    name: str
    value: float
    unit: str
    ceiling: float | None = None
    ceiling_name: str | None = None
    # "ratio>=0.6", "value>=1500", "value<=50", "value==0", "ratio>=0.99", "abs(value-1)<=0.1"-style checks are
    # spelled out as (kind, bound) so the JSON stays plain data.
    target_kind: str | None = None
    target_bound: float | None = None
    target_text: str | None = None
    # False where value / ceiling means nothing (e.g. a drift against a floor of ~0 ms): both are still shown.
    show_ratio: bool = True

    @property
    def ratio(self) -> float | None:
        if not self.show_ratio or self.ceiling is None or self.ceiling == 0 or _nan(self.ceiling) or _nan(self.value):
            return None
        return self.value / self.ceiling

    @property
    def passed(self) -> bool | None:
        if self.target_kind is None or self.target_bound is None:
            return None
        subject = self.ratio if self.target_kind.startswith("ratio") else self.value
        if subject is None or _nan(subject):
            return False
        bound = self.target_bound
        return {
            "ratio>=": subject >= bound,
            "value>=": subject >= bound,
            "value<=": subject <= bound,
            "value==": subject == bound,
        }[self.target_kind]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ratio"] = None if self.ratio is None else round(self.ratio, 4)
        out["passed"] = self.passed
        return out


def at_least(bound: float, text: str) -> dict[str, Any]:
    return {"target_kind": "value>=", "target_bound": bound, "target_text": text}


def at_most(bound: float, text: str) -> dict[str, Any]:
    return {"target_kind": "value<=", "target_bound": bound, "target_text": text}


def exactly(bound: float, text: str) -> dict[str, Any]:
    return {"target_kind": "value==", "target_bound": bound, "target_text": text}


def ratio_at_least(bound: float, text: str) -> dict[str, Any]:
    return {"target_kind": "ratio>=", "target_bound": bound, "target_text": text}


@dataclass
class ScenarioResult:
    scenario: str
    size: dict[str, Any]
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    usage: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    elapsed_s: float = 0.0

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "size": self.size,
            "figures": [f.as_dict() for f in self.figures],
            "details": self.details,
            "notes": self.notes,
            "usage": self.usage,
            "error": self.error,
            "elapsed_s": round(self.elapsed_s, 1),
        }


def _nan(x: float) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _fmt(x: float | None) -> str:
    if x is None or _nan(x):
        return "-"
    if x == int(x) or abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}" if x != int(x) else f"{x:.0f}"


def render_table(results: list[ScenarioResult]) -> str:
    header = ["scenario", "figure", "value", "unit", "ceiling", "ceiling is", "ratio", "target", "ok"]
    rows: list[list[str]] = []
    for res in results:
        if res.error:
            rows.append([res.scenario, f"ERROR {res.error.splitlines()[0][:60]}", "-", "", "", "", "", "", "FAIL"])
        for fig in res.figures:
            ok = {True: "yes", False: "NO", None: ""}[fig.passed]
            rows.append(
                [
                    res.scenario,
                    fig.name,
                    _fmt(fig.value),
                    fig.unit,
                    _fmt(fig.ceiling),
                    fig.ceiling_name or "",
                    "-" if fig.ratio is None else f"{fig.ratio:.2f}",
                    fig.target_text or "",
                    ok,
                ]
            )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    numeric = {2, 4, 6}

    def line(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        padded = (c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in pairs)
        return "  ".join(padded).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def machine_info() -> dict[str, Any]:
    model = ""
    try:
        for ln in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                model = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for ln in pathlib.Path("/proc/meminfo").read_text().splitlines():
            if ln.startswith("MemTotal:"):
                mem_kb = int(ln.split()[1])
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "mem_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def write_json(results: list[ScenarioResult], out_dir: pathlib.Path, argv: list[str], quick: bool,
               machine: dict[str, Any]) -> pathlib.Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    names = "-".join(r.scenario for r in results) if len(results) <= 2 else "all"
    path = out_dir / f"{stamp}-{names}{'-quick' if quick else ''}.json"
    doc = {
        "finished_at": datetime.now(UTC).isoformat(),
        "command": " ".join(argv),
        "quick": quick,
        "machine": {**machine, "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "unix_time": int(time.time()),
        "scenarios": [r.as_dict() for r in results],
    }
    path.write_text(json.dumps(_plain(doc), indent=2, allow_nan=False))
    return path


def _plain(obj: object) -> object:
    """JSON-safe copy: NaN and infinities become null (strict JSON has neither), unknown objects their str()."""
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if obj is None or isinstance(obj, str | int | bool):
        return obj
    return str(obj)

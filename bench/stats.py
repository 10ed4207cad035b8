"""Percentiles, latency summaries and rates: the arithmetic every scenario reports with.

All inputs are nanoseconds (ints), as everywhere in daprjobs; summaries are in milliseconds because that is the
unit the targets in issue 5 are written in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of already sorted values, nearest-rank (no interpolation).

    Nearest-rank means the reported p99 is a latency some request actually had, which is what a reader of a
    latency table expects; interpolating between the two slowest of 100 samples would invent a value.
    """
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0..100")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class LatencySummary:
    """Latency distribution in milliseconds."""

    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    min_ms: float
    mean_ms: float

    @classmethod
    def of_ns(cls, values_ns: Sequence[int]) -> LatencySummary:
        if not values_ns:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan, nan, nan)
        ordered = sorted(values_ns)
        ms = [v / NS_PER_MS for v in ordered]
        return cls(
            count=len(ms),
            p50_ms=percentile(ms, 50),
            p90_ms=percentile(ms, 90),
            p99_ms=percentile(ms, 99),
            max_ms=ms[-1],
            min_ms=ms[0],
            mean_ms=sum(ms) / len(ms),
        )

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def rate_per_s(count: int, elapsed_ns: int) -> float:
    """Events per second; 0 when nothing happened, inf never (a zero interval with events is a clock artefact)."""
    if count <= 0:
        return 0.0
    return count / (max(elapsed_ns, 1) / NS_PER_S)


def ratio(value: float, ceiling: float) -> float | None:
    """value / ceiling, or None when the ceiling is unusable (zero or NaN)."""
    if ceiling == 0 or math.isnan(ceiling) or math.isnan(value):
        return None
    return value / ceiling


def bucketed_median_ms(points: Sequence[tuple[int, int]], start_ns: int, width_ns: int) -> list[float]:
    """Median of y (ns, as ms) per x bucket of ``width_ns`` from ``start_ns``: lateness drift over a run.

    ``points`` are (x_ns, y_ns) pairs, e.g. (scheduled time, lateness). Empty buckets are NaN.
    """
    if width_ns <= 0:
        raise ValueError("bucket width must be positive")
    buckets: dict[int, list[int]] = {}
    for x, y in points:
        buckets.setdefault((x - start_ns) // width_ns, []).append(y)
    if not buckets:
        return []
    out: list[float] = []
    for index in range(0, max(buckets) + 1):
        values = sorted(buckets.get(index, []))
        out.append(percentile(values, 50) / NS_PER_MS if values else float("nan"))
    return out

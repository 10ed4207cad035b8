"""Time units on int nanoseconds, the one representation of instants and durations in daprjobs.

Floats cannot hold nanosecond timestamps, and Go's ``time.Duration`` (which every Dapr time string goes through) is an
int64 of nanoseconds, so its range is the range a duration may take here.
"""

from __future__ import annotations

NS_PER_US = 1_000
NS_PER_MS = 1_000_000
NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
NS_PER_HOUR = 60 * NS_PER_MINUTE
SECONDS_PER_DAY = 86_400

# Go's int (on 64-bit platforms) and time.Duration.
INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "NS_PER_HOUR",
    "NS_PER_MINUTE",
    "NS_PER_MS",
    "NS_PER_SECOND",
    "NS_PER_US",
    "SECONDS_PER_DAY",
]

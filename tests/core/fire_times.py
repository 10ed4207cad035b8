"""Schedule fire times as RFC 3339 strings, for the schedule tests."""

from __future__ import annotations

from daprjobs.core.cronspec import parse_schedule
from daprjobs.core.rfc3339 import format_rfc3339, parse_rfc3339


def ts(s: str) -> int:
    return parse_rfc3339(s)


def nxt(spec: str, after: str) -> str | None:
    r = parse_schedule(spec).next(ts(after))
    return None if r is None else format_rfc3339(r)


def fires(spec: str, after: str, n: int) -> list[str]:
    sched = parse_schedule(spec)
    t = ts(after)
    out = []
    for _ in range(n):
        r = sched.next(t)
        assert r is not None
        out.append(format_rfc3339(r))
        t = r
    return out

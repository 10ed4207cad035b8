"""RFC 3339 instants as Go's ``time.Parse(time.RFC3339, s)`` reads them and ``RFC3339Nano`` writes them (UTC)."""

from __future__ import annotations

import re

from daprjobs.core.gregorian import civil_from_days, days_from_civil, days_in_month
from daprjobs.core.timeunits import NS_PER_SECOND, SECONDS_PER_DAY

__all__ = ["TIMESTAMP_MAX_NS", "TIMESTAMP_MIN_NS", "format_rfc3339", "parse_rfc3339"]

# protobuf Timestamp range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z (the 4-digit years RFC 3339 has).
TIMESTAMP_MIN_NS = -62_135_596_800 * NS_PER_SECOND
TIMESTAMP_MAX_NS = 253_402_300_799 * NS_PER_SECOND + NS_PER_SECOND - 1

_RFC3339 = re.compile(
    # Go's layout parser reads the hour ("15") with one or two digits; every other field is fixed-width.
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{1,2}):([0-9]{2}):([0-9]{2})"
    r"(?:[.,]([0-9]+))?"
    r"(?:(Z)|([+-])([0-9]{2}):([0-9]{2}))\Z"
)


def parse_rfc3339(s: str) -> int:
    """Go ``time.Parse(time.RFC3339, s)``: fractional seconds accepted (``.`` or ``,``, beyond 9 digits truncated),
    ``Z`` or ``±hh:mm``; returns ns since the epoch. Raises ValueError."""
    m = _RFC3339.match(s)
    if m is None:
        raise ValueError(f"cannot parse {s!r} as RFC3339")
    year, month, day, hour, minute, sec = (int(m.group(k)) for k in range(1, 7))
    if not 1 <= month <= 12:
        raise ValueError(f"parsing time {s!r}: month out of range")
    if not 1 <= day <= days_in_month(year, month):
        raise ValueError(f"parsing time {s!r}: day out of range")
    if hour >= 24:
        raise ValueError(f"parsing time {s!r}: hour out of range")
    if minute >= 60:
        raise ValueError(f"parsing time {s!r}: minute out of range")
    if sec >= 60:
        raise ValueError(f"parsing time {s!r}: second out of range")
    frac = m.group(7) or ""
    nanos = int((frac[:9]).ljust(9, "0")) if frac else 0
    offset = 0
    if m.group(8) is None:
        oh, om = int(m.group(10)), int(m.group(11))
        # Go's general parser tolerates 24 hours and 60 minutes in an offset (it tests with > not >=).
        if oh > 24 or om > 60:
            raise ValueError(f"parsing time {s!r}: time zone offset out of range")
        offset = (oh * 3600 + om * 60) * (1 if m.group(9) == "+" else -1)
    secs = days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + sec - offset
    return secs * NS_PER_SECOND + nanos


def format_rfc3339(ns: int) -> str:
    """Go ``t.UTC().Format(time.RFC3339Nano)``: ``2024-01-02T03:04:05.5Z`` (trailing zeros trimmed)."""
    secs, nanos = divmod(ns, NS_PER_SECOND)
    days, sod = divmod(secs, SECONDS_PER_DAY)
    year, month, day = civil_from_days(days)
    hour, rem = divmod(sod, 3600)
    minute, second = divmod(rem, 60)
    frac = f".{nanos:09d}".rstrip("0") if nanos else ""
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{frac}Z"

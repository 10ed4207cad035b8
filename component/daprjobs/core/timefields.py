"""The time fields of jobs and reminders (due time, TTL, reminder period) as Dapr's scheduler reads them.

Each field accepts several grammars tried in Dapr's order (RFC 3339, Go duration, ISO-8601); this module picks among
them and words the errors as Dapr does. The grammars themselves live in ``rfc3339``, ``go_duration`` and ``iso8601``.
"""

from __future__ import annotations

from typing import Literal

from daprjobs.core.go_duration import parse_go_duration
from daprjobs.core.gregorian import add_calendar
from daprjobs.core.iso8601 import parse_iso8601_duration
from daprjobs.core.rfc3339 import TIMESTAMP_MAX_NS, TIMESTAMP_MIN_NS, parse_rfc3339

__all__ = ["TimeFormatError", "parse_period", "parse_point_in_time"]

_UINT32_MAX = (1 << 32) - 1


class TimeFormatError(ValueError):
    """A due time, TTL or period the scheduler cannot read; ``str()`` is Dapr's exact message."""


def parse_point_in_time(s: str, base_ns: int, what: Literal["due time", "ttl"]) -> int:
    """go-etcd-cron ``parsePointInTime``: RFC3339, else a Go duration from ``base_ns``, else a non-repeating
    ISO-8601 duration from ``base_ns`` (calendar part first, then the time part).

    Errors: ``due time format not recognized`` / ``repeats not supported for due time``; on the ttl path every
    failure (the repeats one included) reads ``ttl format not recognized``, as go-etcd-cron rewrites it.
    """
    try:
        try:
            result = parse_rfc3339(s)
        except ValueError:
            try:
                result = base_ns + parse_go_duration(s)
            except ValueError:
                try:
                    iso = parse_iso8601_duration(s)
                except ValueError:
                    raise TimeFormatError("due time format not recognized") from None
                if iso.repeats is not None and iso.repeats > 0:
                    raise TimeFormatError("repeats not supported for due time") from None
                result = add_calendar(base_ns, iso.years, iso.months, iso.total_days) + iso.ns
    except TimeFormatError:
        if what == "ttl":
            raise TimeFormatError("ttl format not recognized") from None
        raise
    if not TIMESTAMP_MIN_NS <= result <= TIMESTAMP_MAX_NS:
        # Go would store an invalid Timestamp; an instant outside years 1..9999 is refused instead.
        raise TimeFormatError("ttl format not recognized" if what == "ttl" else "due time format not recognized")
    return result


def parse_period(s: str) -> tuple[int, int | None]:
    """An actor reminder period as daprd's scheduler path reads it (dapr/kit ``ParseDuration``): ISO-8601 first
    (``[Rn/]PT…``), then a Go duration (the Python SDK's ``0h0m5s0ms0μs`` included).

    Returns ``(interval_ns, repeats)``; ``repeats`` is None for "forever". Years, months or days (weeks too) are
    refused with daprd's ``unsupported period format: <s>``. Deliberate differences from daprd: ``R0/…`` is refused
    (daprd silently repeats forever) and so is a negative interval (daprd would store ``@every -5s``).
    """
    try:
        iso = parse_iso8601_duration(s)
    except ValueError:
        try:
            return _checked_period(s, parse_go_duration(s), None)
        except ValueError:
            raise ValueError(f"unsupported period format: {s}") from None
    if iso.years > 0 or iso.months > 0 or iso.total_days > 0:
        raise ValueError(f"unsupported period format: {s}")
    if iso.repeats is not None and iso.repeats == 0:
        raise ValueError(f"unsupported period format: {s}: has zero repetitions")
    repeats = iso.repeats if iso.repeats is not None and iso.repeats > 0 else None
    if repeats is not None and repeats > _UINT32_MAX:
        # The Scheduler carries repeats as uint32 (daprd would truncate it).
        raise ValueError(f"unsupported period format: {s}")
    return _checked_period(s, iso.ns, repeats)


def _checked_period(s: str, interval_ns: int, repeats: int | None) -> tuple[int, int | None]:
    if interval_ns < 0:
        raise ValueError(f"unsupported period format: {s}")
    return interval_ns, repeats

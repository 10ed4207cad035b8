"""Time strings as Dapr reads and writes them, on int nanoseconds.

Dapr's scheduler is written in Go, so the strings users send (due times, TTLs,
reminder periods, ``@every`` durations) are parsed with Go's ``time`` package and
dapr/kit's ISO-8601 parser. A job accepted or rejected by Dapr must be accepted or
rejected here with the same result and the same error text, so this module
re-implements those grammars exactly, quirks included (dapr/kit's ISO-8601 parser
skips characters it does not know, for example). Every instant and duration is an
``int`` of nanoseconds: floats cannot hold nanosecond timestamps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

NS_PER_US = 1_000
NS_PER_MS = 1_000_000
NS_PER_SECOND = 1_000_000_000
NS_PER_MINUTE = 60 * NS_PER_SECOND
NS_PER_HOUR = 60 * NS_PER_MINUTE
SECONDS_PER_DAY = 86_400

_INT64_MAX = (1 << 63) - 1
_UINT32_MAX = (1 << 32) - 1
# protobuf Timestamp range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.
TIMESTAMP_MIN_NS = -62_135_596_800 * NS_PER_SECOND
TIMESTAMP_MAX_NS = 253_402_300_799 * NS_PER_SECOND + NS_PER_SECOND - 1

__all__ = [
    "NS_PER_HOUR",
    "NS_PER_MINUTE",
    "NS_PER_MS",
    "NS_PER_SECOND",
    "NS_PER_US",
    "ISODuration",
    "TimeFormatError",
    "add_calendar",
    "civil_from_days",
    "days_from_civil",
    "format_go_duration",
    "format_rfc3339",
    "go_quote_time",
    "parse_go_duration",
    "parse_iso8601_duration",
    "parse_period",
    "parse_point_in_time",
    "parse_rfc3339",
]


# --- proleptic Gregorian calendar arithmetic on day numbers (day 0 = 1970-01-01) ------------------------------------
# Pure integer arithmetic (no datetime): it is unbounded, so Go's normalisation of
# out-of-range months and days (AddDate, time.Date) is a plain sum.


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of year-month-day; ``month`` 1..12, ``day`` may overflow (it is added linearly)."""
    y = year - (1 if month <= 2 else 0)
    era = y // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468 + day - 1


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month 1..12, day 1..31) of a day number (day 0 = 1970-01-01)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, day


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 28
    return 30 if month in (4, 6, 9, 11) else 31


# --- Go quoting -----------------------------------------------------------------------------------------------------


def go_quote_time(s: str | bytes) -> str:
    """Go's ``time.quote``: double-quoted, each byte of a non-ASCII or control character as ``\\xNN``."""
    raw = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
    out = ['"']
    for b in raw:
        if b >= 0x80 or b < 0x20:
            out.append(f"\\x{b:02x}")
        elif b in (0x22, 0x5C):
            out.append("\\" + chr(b))
        else:
            out.append(chr(b))
    out.append('"')
    return "".join(out)


# --- Go time.ParseDuration / Duration.String ------------------------------------------------------------------------

_UNIT_NS: dict[bytes, int] = {
    b"ns": 1,
    b"us": NS_PER_US,
    "\u00b5s".encode(): NS_PER_US,  # µ MICRO SIGN
    "\u03bcs".encode(): NS_PER_US,  # μ GREEK SMALL LETTER MU (what the Python SDK sends)
    b"ms": NS_PER_MS,
    b"s": NS_PER_SECOND,
    b"m": NS_PER_MINUTE,
    b"h": NS_PER_HOUR,
}
_DIGITS = frozenset(b"0123456789")


def parse_go_duration(s: str) -> int:
    """Go ``time.ParseDuration``: ``[-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+``, result in int ns.

    Errors carry Go's texts: ``time: invalid duration "x"``, ``time: missing unit in duration "x"``,
    ``time: unknown unit "u" in duration "x"``.
    """
    orig = s.encode("utf-8", "surrogateescape")
    invalid = f"time: invalid duration {go_quote_time(orig)}"
    b = orig
    neg = False
    if b and b[0] in b"-+":
        neg = b[0] == ord("-")
        b = b[1:]
    if b == b"0":
        return 0
    if not b:
        raise ValueError(invalid)
    total = 0
    i = 0
    n = len(b)
    while i < n:
        c = b[i]
        if not (c == ord(".") or c in _DIGITS):
            raise ValueError(invalid)
        # Integer part; Go fails on more than 2^63.
        start = i
        v = 0
        while i < n and b[i] in _DIGITS:
            v = v * 10 + (b[i] - 48)
            if v > 1 << 63:
                raise ValueError(invalid)
            i += 1
        pre = i != start
        # Fraction: Go keeps digits while they fit in int64 and ignores the rest.
        f = 0
        scale = 1
        post = False
        if i < n and b[i] == ord("."):
            i += 1
            fstart = i
            overflow = False
            while i < n and b[i] in _DIGITS:
                if not overflow:
                    if f > _INT64_MAX // 10:
                        overflow = True
                    else:
                        y = f * 10 + (b[i] - 48)
                        if y > 1 << 63:
                            overflow = True
                        else:
                            f = y
                            scale *= 10
                i += 1
            post = i != fstart
        if not pre and not post:
            raise ValueError(invalid)
        ustart = i
        while i < n and not (b[i] == ord(".") or b[i] in _DIGITS):
            i += 1
        if i == ustart:
            raise ValueError(f"time: missing unit in duration {go_quote_time(orig)}")
        unit_bytes = b[ustart:i]
        unit = _UNIT_NS.get(unit_bytes)
        if unit is None:
            raise ValueError(f"time: unknown unit {go_quote_time(unit_bytes)} in duration {go_quote_time(orig)}")
        if v > (1 << 63) // unit:
            raise ValueError(invalid)
        v *= unit
        if f > 0:
            # Go computes the fraction in float64 (exact to the ns for every unit up to hours).
            v += int(float(f) * (float(unit) / float(scale)))
            if v > 1 << 63:
                raise ValueError(invalid)
        total += v
        if total > 1 << 63:
            raise ValueError(invalid)
    if neg:
        return -total
    if total > _INT64_MAX:
        raise ValueError(invalid)
    return total


def _fmt_frac(v: int, prec: int) -> tuple[str, int]:
    """Go's fmtFrac: the fraction of v/10**prec without trailing zeros (and no point when zero)."""
    digits = []
    printed = False
    for _ in range(prec):
        digit = v % 10
        printed = printed or digit != 0
        if printed:
            digits.append(chr(48 + digit))
        v //= 10
    if printed:
        return "." + "".join(reversed(digits)), v
    return "", v


def format_go_duration(ns: int) -> str:
    """Go ``Duration.String()``: ``1h0m0s``, ``1m30s``, ``1.5s``, ``500ms``, ``2µs`` (U+00B5), ``0s``."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < NS_PER_SECOND:
        if u < NS_PER_US:
            prec, unit = 0, "ns"
        elif u < NS_PER_MS:
            prec, unit = 3, "\u00b5s"
        else:
            prec, unit = 6, "ms"
        frac, whole = _fmt_frac(u, prec)
        out = f"{whole}{frac}{unit}"
    else:
        frac, secs = _fmt_frac(u, 9)
        out = f"{secs % 60}{frac}s"
        mins = secs // 60
        if mins > 0:
            out = f"{mins % 60}m{out}"
            hours = mins // 60
            if hours > 0:
                out = f"{hours}h{out}"
    return "-" + out if neg else out


# --- ISO-8601 durations (dapr/kit time.ParseISO8601Duration) --------------------------------------------------------


@dataclass(frozen=True)
class ISODuration:
    """A parsed ``[Rn/]P[nY][nM][nW][nD][T[nH][nM][nS]]``.

    ``ns`` holds the time part (hours, minutes, seconds). ``repeats`` is None without an ``R`` prefix; with one it
    is the number as written (dapr/kit accepts ``R0`` and even ``R-1``; callers decide).
    """

    years: int
    months: int
    weeks: int
    days: int
    ns: int
    repeats: int | None

    @property
    def total_days(self) -> int:
        return self.days + 7 * self.weeks


_GO_ATOI = re.compile(rb"[+-]?[0-9]+\Z")


def _go_atoi(b: bytes) -> int | None:
    """strconv.Atoi on a 64-bit platform: optional sign, ASCII digits, fits in int64; else None."""
    if not _GO_ATOI.match(b):
        return None
    v = int(b)
    if v > _INT64_MAX or v < -(1 << 63):
        return None
    return v


def parse_iso8601_duration(s: str) -> ISODuration:
    """dapr/kit's ISO-8601 duration parser, quirks and all.

    Faithful to kit: integer components only (a sign is allowed), ``Y`` and date-``M`` overwrite while ``W``, ``D``
    and time parts add up, characters that are not designators are skipped (so ``PT5s`` is zero and ``P1`` is
    zero), and ``R5`` / ``R5/`` alone mean five repetitions of nothing. Raises ValueError
    ``unsupported ISO8601 duration format: <s>``.
    """
    b = s.encode("utf-8", "surrogateescape")
    err = ValueError(f"unsupported ISO8601 duration format: {s}")
    n = len(b)
    if n < 2:
        raise err
    i = 0
    repeats: int | None = None
    if b[0] == ord("R"):
        i = 1
        while i < n and b[i] != ord("/"):
            i += 1
        if i - 1 < 1:
            raise err
        repeats = _go_atoi(b[1:i])
        if repeats is None:
            raise err
        i += 1
        if i >= n:
            return ISODuration(0, 0, 0, 0, 0, repeats)
    if b[i] != ord("P"):
        raise err
    i += 1
    start = i
    in_time = False
    years = months = weeks = days = ns = 0
    while i < n:
        c = b[i]
        if c == ord("T"):
            if start != i:
                raise err
            in_time = True
            start = i + 1
        elif c in b"YWDHSM":
            if start == i:
                raise err
            if c in b"YWD" and in_time:
                raise err
            if c in b"HS" and not in_time:
                raise err
            v = _go_atoi(b[start:i])
            if v is None:
                raise err
            if c == ord("Y"):
                years = v
            elif c == ord("W"):
                weeks += v
            elif c == ord("D"):
                days += v
            elif c == ord("H"):
                ns += v * NS_PER_HOUR
            elif c == ord("S"):
                ns += v * NS_PER_SECOND
            elif in_time:
                ns += v * NS_PER_MINUTE
            else:
                months = v
            start = i + 1
        i += 1
    if not -(1 << 63) <= ns <= _INT64_MAX:
        # Go would silently wrap the int64; refusing is the only sane reading of such a value.
        raise err
    return ISODuration(years, months, weeks, days, ns, repeats)


# --- RFC 3339 -------------------------------------------------------------------------------------------------------

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
    if not 1 <= day <= _days_in_month(year, month):
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


# --- calendar arithmetic --------------------------------------------------------------------------------------------


def add_calendar(base_ns: int, years: int, months: int, days: int) -> int:
    """Go ``t.AddDate(years, months, days)`` in UTC, normalised like ``time.Date`` (Jan 31 + 1 month = Mar 3)."""
    secs, nanos = divmod(base_ns, NS_PER_SECOND)
    day_no, sod = divmod(secs, SECONDS_PER_DAY)
    y, m, d = civil_from_days(day_no)
    total_months = (y + years) * 12 + (m - 1) + months
    ny, nm0 = divmod(total_months, 12)
    new_days = days_from_civil(ny, nm0 + 1, 1) + (d - 1) + days
    return (new_days * SECONDS_PER_DAY + sod) * NS_PER_SECOND + nanos


# --- due time / ttl / reminder period -------------------------------------------------------------------------------


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

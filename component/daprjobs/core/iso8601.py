"""ISO-8601 durations as dapr/kit's ``time.ParseISO8601Duration`` reads them, quirks included.

Dapr reads due times, TTLs and reminder periods with this parser, so a duration it accepts or rejects must be
accepted or rejected here alike, even where kit departs from ISO-8601 (it skips characters it does not know).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from daprjobs.core.timeunits import INT64_MAX, INT64_MIN, NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND

__all__ = ["ISODuration", "parse_iso8601_duration"]


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
    if v > INT64_MAX or v < INT64_MIN:
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
    if len(b) < 2:
        raise err
    repeats, i = _repeats_prefix(b, err)
    if i >= len(b):
        return ISODuration(0, 0, 0, 0, 0, repeats)
    if b[i] != ord("P"):
        raise err
    years, months, weeks, days, ns = _designated_parts(b, i + 1, err)
    if not INT64_MIN <= ns <= INT64_MAX:
        # Go would silently wrap the int64; refusing is the only sane reading of such a value.
        raise err
    return ISODuration(years, months, weeks, days, ns, repeats)


def _repeats_prefix(b: bytes, err: ValueError) -> tuple[int | None, int]:
    """The ``Rn/`` prefix: (n or None without one, index of what follows it)."""
    if b[0] != ord("R"):
        return None, 0
    i = 1
    while i < len(b) and b[i] != ord("/"):
        i += 1
    if i - 1 < 1:
        raise err
    repeats = _go_atoi(b[1:i])
    if repeats is None:
        raise err
    return repeats, i + 1


def _designated_parts(b: bytes, i: int, err: ValueError) -> tuple[int, int, int, int, int]:
    """(years, months, weeks, days, time-part ns) of what follows ``P``, from index ``i``."""
    start = i
    in_time = False
    years = months = weeks = days = ns = 0
    while i < len(b):
        c = b[i]
        if c == ord("T"):
            if start != i:
                raise err
            in_time = True
            start = i + 1
        elif c in b"YWDHSM":
            v = _designated_value(b[start:i], c, in_time, err)
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
    return years, months, weeks, days, ns


def _designated_value(number: bytes, designator: int, in_time: bool, err: ValueError) -> int:
    """The number before a designator, which must be non-empty and on its side of ``T``."""
    if not number:
        raise err
    if designator in b"YWD" and in_time:
        raise err
    if designator in b"HS" and not in_time:
        raise err
    v = _go_atoi(number)
    if v is None:
        raise err
    return v

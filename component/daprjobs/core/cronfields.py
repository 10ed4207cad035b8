"""The six fields of a cron spec as bit sets, and the search over them.

Bit ``i`` of a field's mask means value ``i`` is allowed; bit 63 marks a field written ``*`` or ``?``, because
robfig's day rule (day-of-month against day-of-week) depends on whether either day field was a star.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DAYS_OF_MONTH",
    "DAYS_OF_WEEK",
    "HOURS",
    "MINUTES",
    "MONTHS",
    "SECONDS",
    "STAR",
    "YEAR_LIMIT",
    "FieldBounds",
    "all_values",
    "day_matches",
    "next_bit",
    "value_bits",
]

STAR = 1 << 63
# robfig gives up (returns the zero time) when no match is found within this many years.
YEAR_LIMIT = 5


@dataclass(frozen=True, slots=True)
class FieldBounds:
    """A field's allowed range and, for months and weekdays, the names that stand for values."""

    low: int
    high: int
    names: dict[str, int] | None


SECONDS = FieldBounds(0, 59, None)
MINUTES = FieldBounds(0, 59, None)
HOURS = FieldBounds(0, 23, None)
DAYS_OF_MONTH = FieldBounds(1, 31, None)
MONTHS = FieldBounds(
    1,
    12,
    {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())},
)
DAYS_OF_WEEK = FieldBounds(0, 6, {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))})


def value_bits(low: int, high: int, step: int) -> int:
    """The mask of ``low``, ``low + step``, ... up to ``high``."""
    if step == 1:
        return ((1 << (high + 1)) - 1) & ~((1 << low) - 1)
    out = 0
    for i in range(low, high + 1, step):
        out |= 1 << i
    return out


def all_values(b: FieldBounds) -> int:
    """The mask of a ``*`` field."""
    return value_bits(b.low, b.high, 1) | STAR


def next_bit(mask: int, frm: int, limit: int) -> int | None:
    """Smallest set bit index ``i`` with ``frm <= i <= limit``."""
    rest = (mask >> frm) << frm
    rest &= (1 << (limit + 1)) - 1
    if rest == 0:
        return None
    return (rest & -rest).bit_length() - 1


def day_matches(dom: int, dow: int, day: int, weekday: int) -> bool:
    """robfig's day rule for day-of-month ``day`` falling on ``weekday`` (0 = Sunday)."""
    dom_match = (dom >> day) & 1
    dow_match = (dow >> weekday) & 1
    # If either field is a star, both must match (so the other alone restricts); else either may.
    if dom & STAR or dow & STAR:
        return bool(dom_match and dow_match)
    return bool(dom_match or dow_match)

"""Parsing job schedules: Dapr's cron dialect (dapr/kit's fork of robfig/cron), descriptors and ``@every``.

The grammar and the error texts must equal Dapr's, because a job schedule is user input that Dapr accepts or
rejects. The parsed schedules and their fire times are in ``cronschedule`` (and ``cronzone`` for named zones).
"""

from __future__ import annotations

import functools
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from daprjobs.core.cronfields import (
    DAYS_OF_MONTH,
    DAYS_OF_WEEK,
    HOURS,
    MINUTES,
    MONTHS,
    SECONDS,
    STAR,
    FieldBounds,
    all_values,
    value_bits,
)
from daprjobs.core.cronschedule import CronSchedule, EverySchedule, Schedule
from daprjobs.core.go_duration import parse_go_duration

__all__ = ["ScheduleError", "parse_schedule"]


class ScheduleError(ValueError):
    """An unparsable schedule; ``str()`` is dapr/kit's exact message."""


def _parse_int(expr: str) -> int:
    """robfig's mustParseInt: strconv.Atoi then a sign check, with their error texts."""
    body = expr[1:] if expr[:1] in ("+", "-") else expr
    if not body or not all("0" <= c <= "9" for c in body):
        raise ScheduleError(
            f'failed to parse int from {expr}: strconv.Atoi: parsing "{_go_quote_body(expr)}": invalid syntax'
        )
    num = int(expr)
    if num > (1 << 63) - 1 or num < -(1 << 63):
        raise ScheduleError(
            f'failed to parse int from {expr}: strconv.Atoi: parsing "{_go_quote_body(expr)}": value out of range'
        )
    if num < 0:
        raise ScheduleError(f"negative number ({num}) not allowed: {expr}")
    return num


def _go_quote_body(s: str) -> str:
    """The inside of Go's strconv.Quote (used by strconv's NumError)."""
    out = []
    for ch in s:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif not ch.isprintable():
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)


def _parse_int_or_name(expr: str, names: dict[str, int] | None) -> int:
    if names is not None:
        named = names.get(expr.lower())
        if named is not None:
            return named
    return _parse_int(expr)


def _get_range(expr: str, b: FieldBounds) -> int:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    extra = 0
    if low_and_high[0] in ("*", "?"):
        start, end = b.low, b.high
        extra = STAR
    else:
        start = _parse_int_or_name(low_and_high[0], b.names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _parse_int_or_name(low_and_high[1], b.names)
        else:
            raise ScheduleError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _parse_int(range_and_step[1])
        if single:
            # `N/step` means N through the maximum.
            end = b.high
        if step > 1:
            extra = 0
    else:
        raise ScheduleError(f"too many slashes: {expr}")
    if start < b.low:
        raise ScheduleError(f"beginning of range ({start}) below minimum ({b.low}): {expr}")
    if end > b.high:
        raise ScheduleError(f"end of range ({end}) above maximum ({b.high}): {expr}")
    if start > end:
        raise ScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ScheduleError(f"step of range should be a positive number: {expr}")
    return value_bits(start, end, step) | extra


def _get_field(field: str, b: FieldBounds) -> int:
    bits = 0
    # Go's strings.FieldsFunc: empty items between commas are dropped.
    for expr in field.split(","):
        if expr:
            bits |= _get_range(expr, b)
    return bits


def _load_zone(name: str) -> ZoneInfo | None:
    """Go's time.LoadLocation; None stands for UTC (also for "Local": robfig then uses the argument's zone, UTC)."""
    if name in ("", "UTC", "Local"):
        return None
    if ".." in name or name.startswith(("/", "\\")):
        raise ScheduleError(f"provided bad location {name}: time: invalid location name")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(f"provided bad location {name}: unknown time zone {name}") from None


# Go's unicode.IsSpace set (Python's str.isspace also counts U+001C..U+001F, Go does not).
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
_GO_SPACE_RUN = re.compile(f"[{re.escape(_GO_SPACE)}]+")
_EVERY = "@every "


def _go_fields(s: str) -> list[str]:
    """Go's strings.Fields."""
    return [f for f in _GO_SPACE_RUN.split(s) if f]


_DESCRIPTORS: dict[str, tuple[int, int, int, int, int, int]] = {
    "@yearly": (1, 1, 1, 1 << 1, 1 << 1, all_values(DAYS_OF_WEEK)),
    "@annually": (1, 1, 1, 1 << 1, 1 << 1, all_values(DAYS_OF_WEEK)),
    "@monthly": (1, 1, 1, 1 << 1, all_values(MONTHS), all_values(DAYS_OF_WEEK)),
    "@weekly": (1, 1, 1, all_values(DAYS_OF_MONTH), all_values(MONTHS), 1),
    "@daily": (1, 1, 1, all_values(DAYS_OF_MONTH), all_values(MONTHS), all_values(DAYS_OF_WEEK)),
    "@midnight": (1, 1, 1, all_values(DAYS_OF_MONTH), all_values(MONTHS), all_values(DAYS_OF_WEEK)),
    "@hourly": (1, 1, all_values(HOURS), all_values(DAYS_OF_MONTH), all_values(MONTHS), all_values(DAYS_OF_WEEK)),
}


@functools.lru_cache(maxsize=16_384)
def parse_schedule(spec: str) -> Schedule:
    """Parse a Dapr job schedule (cached by spec string). Raises ScheduleError with dapr/kit's texts.

    The zone checks follow the dapr/kit that Dapr 1.18 pins (kit PRs #160-#162): a zone prefix on ``@every`` is
    refused (``timezone is not supported for @every schedules: <spec>``) and a prefix with no space after it is an
    error instead of a panic. Deliberate difference: ``@every`` with a zero or negative duration is refused (kit
    would fire it continuously).
    """
    if len(spec) == 0:
        raise ScheduleError("empty spec string")
    zone: ZoneInfo | None = None
    prefixed = spec
    if spec.startswith(("TZ=", "CRON_TZ=")):
        space = spec.find(" ")
        eq = spec.find("=")
        if space < 0:
            raise ScheduleError(f"timezone prefix is not followed by a schedule: {prefixed}")
        zone = _load_zone(spec[eq + 1 : space])
        spec = spec[space:].strip(_GO_SPACE)
        if spec.startswith(_EVERY):
            # An interval has no wall clock for a zone to apply to.
            raise ScheduleError(f"timezone is not supported for @every schedules: {prefixed}")
    if spec.startswith("@"):
        fields = _DESCRIPTORS.get(spec)
        if fields is not None:
            return CronSchedule(*fields, zone=zone)
        if spec.startswith(_EVERY):
            try:
                delay = parse_go_duration(spec[len(_EVERY) :])
            except ValueError as exc:
                raise ScheduleError(f"failed to parse duration {spec}: {exc}") from None
            if delay <= 0:
                raise ScheduleError(f"@every duration must be positive: {spec}")
            return EverySchedule(delay)
        raise ScheduleError(f"unrecognized descriptor: {spec}")
    parts = _go_fields(spec)
    if len(parts) != 6:
        raise ScheduleError(f"expected exactly 6 fields, found {len(parts)}: [{' '.join(parts)}]")
    return CronSchedule(
        second=_get_field(parts[0], SECONDS),
        minute=_get_field(parts[1], MINUTES),
        hour=_get_field(parts[2], HOURS),
        dom=_get_field(parts[3], DAYS_OF_MONTH),
        month=_get_field(parts[4], MONTHS),
        dow=_get_field(parts[5], DAYS_OF_WEEK),
        zone=zone,
    )

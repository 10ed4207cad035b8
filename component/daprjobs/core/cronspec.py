"""Job schedules: Dapr's cron dialect (dapr/kit's fork of robfig/cron) and ``@every``.

The grammar, the error texts and the next-fire rules must equal Dapr's, because a job
schedule is user input that Dapr accepts or rejects and the fire times are observable.
Without a ``TZ=``/``CRON_TZ=`` prefix a schedule is evaluated in UTC (Dapr passes UTC
instants, and robfig evaluates a zone-less spec in the location of its argument).

Two evaluators:
- UTC (the common case): a direct search that jumps from one allowed field value to the
  next, a few integer operations per call.
- a named zone: a step-by-step port of robfig's ``SpecSchedule.Next`` on wall-clock time,
  including Go's ``time.Date`` normalisation of non-existent and repeated local times, so
  that spring-forward and fall-back behave exactly as in Dapr (a skipped wall time is
  skipped, a repeated wall hour fires on both passes for hourly specs).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from daprjobs.core.timefmt import NS_PER_SECOND, civil_from_days, days_from_civil, parse_go_duration

__all__ = ["CronSchedule", "EverySchedule", "Schedule", "ScheduleError", "parse_schedule"]

_STAR = 1 << 63
_SECONDS_PER_DAY = 86_400
# robfig gives up (returns the zero time) when no match is found within this many years.
_YEAR_LIMIT = 5


class Schedule(Protocol):
    def next(self, after_ns: int) -> int | None:
        """First fire instant strictly after ``after_ns`` (ns); None when there is none."""
        ...


class ScheduleError(ValueError):
    """An unparsable schedule; ``str()`` is dapr/kit's exact message."""


@dataclass(frozen=True, slots=True)
class EverySchedule:
    """``@every <duration>``: fires every ``delay_ns`` after the previous scheduled time, to the nanosecond."""

    delay_ns: int

    def next(self, after_ns: int) -> int | None:
        return after_ns + self.delay_ns


@dataclass(frozen=True, slots=True)
class _Bounds:
    low: int
    high: int
    names: dict[str, int] | None


_SECONDS = _Bounds(0, 59, None)
_MINUTES = _Bounds(0, 59, None)
_HOURS = _Bounds(0, 23, None)
_DOM = _Bounds(1, 31, None)
_MONTHS = _Bounds(
    1,
    12,
    {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())},
)
_DOW = _Bounds(0, 6, {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))})


def _bits(low: int, high: int, step: int) -> int:
    if step == 1:
        return ((1 << (high + 1)) - 1) & ~((1 << low) - 1)
    out = 0
    for i in range(low, high + 1, step):
        out |= 1 << i
    return out


def _all(b: _Bounds) -> int:
    return _bits(b.low, b.high, 1) | _STAR


def _next_bit(mask: int, frm: int, limit: int) -> int | None:
    """Smallest set bit index ``i`` with ``frm <= i <= limit``."""
    rest = (mask >> frm) << frm
    rest &= (1 << (limit + 1)) - 1
    if rest == 0:
        return None
    return (rest & -rest).bit_length() - 1


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A 6-field spec as bit sets (bit ``i`` = value ``i``; bit 63 marks a ``*``/``?`` field), in ``zone`` or UTC."""

    second: int
    minute: int
    hour: int
    dom: int
    month: int
    dow: int
    zone: ZoneInfo | None = None

    def _day_matches(self, day: int, weekday: int) -> bool:
        dom_match = (self.dom >> day) & 1
        dow_match = (self.dow >> weekday) & 1
        # robfig: if either field is a star, both must match (so the other alone restricts); else either may.
        if self.dom & _STAR or self.dow & _STAR:
            return bool(dom_match and dow_match)
        return bool(dom_match or dow_match)

    def next(self, after_ns: int) -> int | None:
        # robfig first moves to the next whole second strictly after `after`.
        start = after_ns // NS_PER_SECOND + 1
        found = self._next_utc(start) if self.zone is None else self._next_zoned(start, self.zone)
        return None if found is None else found * NS_PER_SECOND

    # -- UTC: jump straight to the next allowed value of each field ------------------------------------------------

    def _matching_days(self, year: int, month: int, first_day_no: int) -> int:
        """Bit set of the days of ``month`` (bit d = day d) that pass the dom/dow rule."""
        dim = days_from_civil(year + month // 12, month % 12 + 1, 1) - first_day_no
        wd1 = (first_day_no + 4) % 7
        dow_days = 0
        dow = self.dow
        for w in range(7):
            if (dow >> w) & 1:
                d = 1 + (w - wd1) % 7
                while d <= dim:
                    dow_days |= 1 << d
                    d += 7
        in_month = ((1 << (dim + 1)) - 1) & ~1
        if self.dom & _STAR or dow & _STAR:
            return self.dom & dow_days & in_month
        return (self.dom | dow_days) & in_month

    def _next_utc(self, t: int) -> int | None:
        limit = civil_from_days(t // _SECONDS_PER_DAY)[0] + _YEAR_LIMIT
        while True:
            days, sod = divmod(t, _SECONDS_PER_DAY)
            year, month, day = civil_from_days(days)
            if year > limit:
                return None
            if not (self.month >> month) & 1:
                nm = _next_bit(self.month, month + 1, 12)
                t = (days_from_civil(year, nm, 1) if nm is not None else days_from_civil(year + 1, 1, 1)) * 86_400
                continue
            if not self._day_matches(day, (days + 4) % 7):
                first = days - day + 1
                nd = _next_bit(self._matching_days(year, month, first), day + 1, 31)
                t = first + nd - 1 if nd is not None else days_from_civil(year + month // 12, month % 12 + 1, 1)
                t *= _SECONDS_PER_DAY
                continue
            hour, rem = divmod(sod, 3600)
            minute, second = divmod(rem, 60)
            base = days * _SECONDS_PER_DAY
            if not (self.hour >> hour) & 1:
                nh = _next_bit(self.hour, hour + 1, 23)
                t = base + nh * 3600 if nh is not None else base + _SECONDS_PER_DAY
                continue
            base += hour * 3600
            if not (self.minute >> minute) & 1:
                nmin = _next_bit(self.minute, minute + 1, 59)
                t = base + nmin * 60 if nmin is not None else base + 3600
                continue
            base += minute * 60
            if not (self.second >> second) & 1:
                ns = _next_bit(self.second, second + 1, 59)
                t = base + ns if ns is not None else base + 60
                continue
            return t

    # -- named zone: robfig's wall-clock walk ----------------------------------------------------------------------

    def _next_zoned(self, t: int, zone: ZoneInfo, jump: bool = True) -> int | None:
        """robfig's walk. With ``jump``, the hour, minute and second loops skip straight to the next allowed value
        when the UTC offset is the same there (then every skipped step would have been a non-match too); across an
        offset change they step one unit at a time like robfig. ``jump=False`` is the plain walk (tests use it as
        the reference)."""

        def offset(unix: int) -> int:
            off = datetime.fromtimestamp(unix, zone).utcoffset()
            return 0 if off is None else int(off.total_seconds())

        def fields(unix: int) -> tuple[int, int, int, int, int, int, int]:
            days, sod = divmod(unix + offset(unix), _SECONDS_PER_DAY)
            y, mo, d = civil_from_days(days)
            h, rem = divmod(sod, 3600)
            mi, s = divmod(rem, 60)
            return y, mo, d, h, mi, s, (days + 4) % 7

        def go_date(y: int, mo: int, d: int, h: int, mi: int, s: int) -> int:
            # Go's time.Date: normalise the month into the year, add the rest linearly, then resolve the wall
            # time with the offset in force at (wall - offset at wall); this is how Go places a wall time that
            # falls in a gap or an overlap.
            yy, m0 = divmod(y * 12 + mo - 1, 12)
            local = (days_from_civil(yy, m0 + 1, 1) + d - 1) * _SECONDS_PER_DAY + h * 3600 + mi * 60 + s
            return local - offset(local - offset(local))

        def skip(unix: int, value: int, mask: int, top: int, unit: int) -> int:
            """Where robfig's `t += unit` loop over a field with current value `value` (0..top) ends: at the next
            allowed value, or at the field's wrap to 0; one step only if the offset changes on the way."""
            if jump:
                nv = _next_bit(mask, value + 1, top)
                dest = unix + ((nv if nv is not None else top + 1) - value) * unit
                if offset(dest) == offset(unix):
                    return dest
            return unix + unit

        added = False
        limit = fields(t)[0] + _YEAR_LIMIT
        while True:  # robfig's WRAP label
            y, mo, d, h, mi, s, wd = fields(t)
            if y > limit:
                return None
            wrapped = False
            while not (self.month >> mo) & 1:
                if not added:
                    added = True
                    t = go_date(y, mo, 1, 0, 0, 0)
                    y, mo, d, h, mi, s, wd = fields(t)
                t = go_date(y, mo + 1, d, h, mi, s)
                y, mo, d, h, mi, s, wd = fields(t)
                if mo == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not self._day_matches(d, wd):
                if not added:
                    added = True
                    t = go_date(y, mo, d, 0, 0, 0)
                    y, mo, d, h, mi, s, wd = fields(t)
                t = go_date(y, mo, d + 1, h, mi, s)
                h = fields(t)[3]
                # Midnight may not exist (or exist twice) on DST days: robfig pulls the walk back to hour 0.
                if h != 0:
                    t += (24 - h) * 3600 if h > 12 else -h * 3600
                y, mo, d, h, mi, s, wd = fields(t)
                if d == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (self.hour >> h) & 1:
                if not added:
                    added = True
                    t = go_date(y, mo, d, h, 0, 0)
                    h = fields(t)[3]
                t = skip(t, h, self.hour, 23, 3600)
                y, mo, d, h, mi, s, wd = fields(t)
                if h == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (self.minute >> mi) & 1:
                if not added:
                    added = True
                    t -= t % 60  # Go's Truncate(time.Minute) works on absolute time
                    mi = fields(t)[4]
                t = skip(t, mi, self.minute, 59, 60)
                y, mo, d, h, mi, s, wd = fields(t)
                if mi == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not (self.second >> s) & 1:
                added = True
                t = skip(t, s, self.second, 59, 1)
                y, mo, d, h, mi, s, wd = fields(t)
                if s == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            return t


# --- parsing --------------------------------------------------------------------------------------------------------


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


def _get_range(expr: str, b: _Bounds) -> int:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    extra = 0
    if low_and_high[0] in ("*", "?"):
        start, end = b.low, b.high
        extra = _STAR
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
    return _bits(start, end, step) | extra


def _get_field(field: str, b: _Bounds) -> int:
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
    "@yearly": (1, 1, 1, 1 << 1, 1 << 1, _all(_DOW)),
    "@annually": (1, 1, 1, 1 << 1, 1 << 1, _all(_DOW)),
    "@monthly": (1, 1, 1, 1 << 1, _all(_MONTHS), _all(_DOW)),
    "@weekly": (1, 1, 1, _all(_DOM), _all(_MONTHS), 1),
    "@daily": (1, 1, 1, _all(_DOM), _all(_MONTHS), _all(_DOW)),
    "@midnight": (1, 1, 1, _all(_DOM), _all(_MONTHS), _all(_DOW)),
    "@hourly": (1, 1, _all(_HOURS), _all(_DOM), _all(_MONTHS), _all(_DOW)),
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
        second=_get_field(parts[0], _SECONDS),
        minute=_get_field(parts[1], _MINUTES),
        hour=_get_field(parts[2], _HOURS),
        dom=_get_field(parts[3], _DOM),
        month=_get_field(parts[4], _MONTHS),
        dow=_get_field(parts[5], _DOW),
        zone=zone,
    )

"""Job schedules and their next fire instant: a 6-field cron spec (UTC or a named zone) and ``@every``.

The fire times are observable, so they must equal Dapr's (dapr/kit's fork of robfig/cron). Without a zone a spec is
evaluated in UTC (Dapr passes UTC instants, and robfig evaluates a zone-less spec in the location of its argument).

Two evaluators:
- UTC (the common case, here): a direct search that jumps from one allowed field value to the next, a few integer
  operations per call.
- a named zone (``cronzone``): robfig's step-by-step walk on wall-clock time, Go's ``time.Date`` normalisation of
  non-existent and repeated local times included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from daprjobs.core.cronfields import STAR, YEAR_LIMIT, day_matches, next_bit
from daprjobs.core.cronzone import next_in_zone
from daprjobs.core.gregorian import civil_from_days, days_from_civil
from daprjobs.core.timeunits import NS_PER_SECOND, SECONDS_PER_DAY

__all__ = ["CronSchedule", "EverySchedule", "Schedule"]


class Schedule(Protocol):
    def next(self, after_ns: int) -> int | None:
        """First fire instant strictly after ``after_ns`` (ns); None when there is none."""
        ...


@dataclass(frozen=True, slots=True)
class EverySchedule:
    """``@every <duration>``: fires every ``delay_ns`` after the previous scheduled time, to the nanosecond."""

    delay_ns: int

    def next(self, after_ns: int) -> int | None:
        return after_ns + self.delay_ns


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

    def next(self, after_ns: int) -> int | None:
        # robfig first moves to the next whole second strictly after `after`.
        start = after_ns // NS_PER_SECOND + 1
        found = self._next_utc(start) if self.zone is None else self._next_zoned(start, self.zone)
        return None if found is None else found * NS_PER_SECOND

    def _next_zoned(self, t: int, zone: ZoneInfo, jump: bool = True) -> int | None:
        """robfig's walk in ``zone`` from unix second ``t``; ``jump=False`` is the plain walk (tests' reference)."""
        return next_in_zone(self, t, zone, jump)

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
        if self.dom & STAR or dow & STAR:
            return self.dom & dow_days & in_month
        return (self.dom | dow_days) & in_month

    def _next_utc(self, t: int) -> int | None:
        limit = civil_from_days(t // SECONDS_PER_DAY)[0] + YEAR_LIMIT
        while True:
            days, sod = divmod(t, SECONDS_PER_DAY)
            year, month, day = civil_from_days(days)
            if year > limit:
                return None
            if not (self.month >> month) & 1:
                nm = next_bit(self.month, month + 1, 12)
                t = (days_from_civil(year, nm, 1) if nm is not None else days_from_civil(year + 1, 1, 1)) * 86_400
                continue
            if not day_matches(self.dom, self.dow, day, (days + 4) % 7):
                first = days - day + 1
                nd = next_bit(self._matching_days(year, month, first), day + 1, 31)
                t = first + nd - 1 if nd is not None else days_from_civil(year + month // 12, month % 12 + 1, 1)
                t *= SECONDS_PER_DAY
                continue
            hour, rem = divmod(sod, 3600)
            minute, second = divmod(rem, 60)
            base = days * SECONDS_PER_DAY
            if not (self.hour >> hour) & 1:
                nh = next_bit(self.hour, hour + 1, 23)
                t = base + nh * 3600 if nh is not None else base + SECONDS_PER_DAY
                continue
            base += hour * 3600
            if not (self.minute >> minute) & 1:
                nmin = next_bit(self.minute, minute + 1, 59)
                t = base + nmin * 60 if nmin is not None else base + 3600
                continue
            base += minute * 60
            if not (self.second >> second) & 1:
                ns = next_bit(self.second, second + 1, 59)
                t = base + ns if ns is not None else base + 60
                continue
            return t

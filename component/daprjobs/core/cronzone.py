"""robfig's ``SpecSchedule.Next`` in a named zone: a walk on wall-clock time, ported step by step.

Go's ``time.Date`` normalisation of non-existent and repeated local times is reproduced, so that spring-forward and
fall-back behave exactly as in Dapr: a skipped wall time is skipped, a repeated wall hour fires on both passes for
hourly specs. Each field's loop below is one of robfig's; ``True`` from a loop is robfig's ``goto WRAP``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from daprjobs.core.cronfields import YEAR_LIMIT, day_matches, next_bit
from daprjobs.core.gregorian import civil_from_days, days_from_civil
from daprjobs.core.timeunits import SECONDS_PER_DAY

if TYPE_CHECKING:
    from daprjobs.core.cronschedule import CronSchedule

__all__ = ["next_in_zone"]


def next_in_zone(sched: CronSchedule, t: int, zone: ZoneInfo, jump: bool = True) -> int | None:
    """First unix second at or after ``t`` that ``sched`` allows in ``zone``; None past robfig's year limit.

    With ``jump``, the hour, minute and second loops skip straight to the next allowed value when the UTC offset is
    the same there (then every skipped step would have been a non-match too); across an offset change they step one
    unit at a time like robfig. ``jump=False`` is the plain walk.
    """
    return _ZonedWalk(sched, zone, jump).run(t)


class _Wall(NamedTuple):
    """Wall-clock fields of an instant in the zone; weekday 0 = Sunday."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    weekday: int


class _ZonedWalk:
    def __init__(self, sched: CronSchedule, zone: ZoneInfo, jump: bool) -> None:
        self.sched = sched
        self.zone = zone
        self.jump = jump
        self.t = 0
        self.wall = _Wall(1970, 1, 1, 0, 0, 0, 4)
        # robfig's `added`: the first change truncates the lower fields to their start.
        self.added = False

    def run(self, t: int) -> int | None:
        self.added = False
        self._move_to(t)
        limit = self.wall.year + YEAR_LIMIT
        while True:  # robfig's WRAP label
            self._move_to(self.t)
            if self.wall.year > limit:
                return None
            wrapped = self._seek_month() or self._seek_day() or self._seek_hour()
            if not (wrapped or self._seek_minute() or self._seek_second()):
                return self.t

    # -- the zone's clock ------------------------------------------------------------------------------------------

    def _offset(self, unix: int) -> int:
        off = datetime.fromtimestamp(unix, self.zone).utcoffset()
        return 0 if off is None else int(off.total_seconds())

    def _wall_at(self, unix: int) -> _Wall:
        days, sod = divmod(unix + self._offset(unix), SECONDS_PER_DAY)
        y, mo, d = civil_from_days(days)
        h, rem = divmod(sod, 3600)
        mi, s = divmod(rem, 60)
        return _Wall(y, mo, d, h, mi, s, (days + 4) % 7)

    def _move_to(self, unix: int) -> None:
        self.t = unix
        self.wall = self._wall_at(unix)

    def _go_date(self, y: int, mo: int, d: int, h: int, mi: int, s: int) -> int:
        # Go's time.Date: normalise the month into the year, add the rest linearly, then resolve the wall time with
        # the offset in force at (wall - offset at wall); this is how Go places a wall time that falls in a gap or an
        # overlap.
        yy, m0 = divmod(y * 12 + mo - 1, 12)
        local = (days_from_civil(yy, m0 + 1, 1) + d - 1) * SECONDS_PER_DAY + h * 3600 + mi * 60 + s
        return local - self._offset(local - self._offset(local))

    def _step(self, value: int, mask: int, top: int, unit: int) -> int:
        """Where robfig's `t += unit` loop over a field with current value `value` (0..top) ends: at the next
        allowed value, or at the field's wrap to 0; one step only if the offset changes on the way."""
        if self.jump:
            nv = next_bit(mask, value + 1, top)
            dest = self.t + ((nv if nv is not None else top + 1) - value) * unit
            if self._offset(dest) == self._offset(self.t):
                return dest
        return self.t + unit

    # -- robfig's field loops ------------------------------------------------------------------------------------

    def _seek_month(self) -> bool:
        while not (self.sched.month >> self.wall.month) & 1:
            if not self.added:
                self.added = True
                self._move_to(self._go_date(self.wall.year, self.wall.month, 1, 0, 0, 0))
            y, mo, d, h, mi, s, _ = self.wall
            self._move_to(self._go_date(y, mo + 1, d, h, mi, s))
            if self.wall.month == 1:
                return True
        return False

    def _seek_day(self) -> bool:
        while not day_matches(self.sched.dom, self.sched.dow, self.wall.day, self.wall.weekday):
            if not self.added:
                self.added = True
                self._move_to(self._go_date(self.wall.year, self.wall.month, self.wall.day, 0, 0, 0))
            y, mo, d, h, mi, s, _ = self.wall
            t = self._go_date(y, mo, d + 1, h, mi, s)
            hour = self._wall_at(t).hour
            # Midnight may not exist (or exist twice) on DST days: robfig pulls the walk back to hour 0.
            if hour != 0:
                t += (24 - hour) * 3600 if hour > 12 else -hour * 3600
            self._move_to(t)
            if self.wall.day == 1:
                return True
        return False

    def _seek_hour(self) -> bool:
        while not (self.sched.hour >> self.wall.hour) & 1:
            if not self.added:
                self.added = True
                y, mo, d, h = self.wall[:4]
                self._move_to(self._go_date(y, mo, d, h, 0, 0))
            self._move_to(self._step(self.wall.hour, self.sched.hour, 23, 3600))
            if self.wall.hour == 0:
                return True
        return False

    def _seek_minute(self) -> bool:
        while not (self.sched.minute >> self.wall.minute) & 1:
            if not self.added:
                self.added = True
                self._move_to(self.t - self.t % 60)  # Go's Truncate(time.Minute) works on absolute time
            self._move_to(self._step(self.wall.minute, self.sched.minute, 59, 60))
            if self.wall.minute == 0:
                return True
        return False

    def _seek_second(self) -> bool:
        while not (self.sched.second >> self.wall.second) & 1:
            self.added = True
            self._move_to(self._step(self.wall.second, self.sched.second, 59, 1))
            if self.wall.second == 0:
                return True
        return False

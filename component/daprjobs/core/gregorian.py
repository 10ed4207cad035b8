"""Proleptic Gregorian calendar arithmetic on day numbers (day 0 = 1970-01-01), and Go's ``AddDate``.

Pure integer arithmetic (no datetime): it is unbounded, so Go's normalisation of out-of-range months and days
(``AddDate``, ``time.Date``) is a plain sum. RFC 3339, ISO-8601 calendar durations and cron schedules all use it.
"""

from __future__ import annotations

from daprjobs.core.timeunits import NS_PER_SECOND, SECONDS_PER_DAY

__all__ = ["add_calendar", "civil_from_days", "days_from_civil", "days_in_month"]


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


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def add_calendar(base_ns: int, years: int, months: int, days: int) -> int:
    """Go ``t.AddDate(years, months, days)`` in UTC, normalised like ``time.Date`` (Jan 31 + 1 month = Mar 3)."""
    secs, nanos = divmod(base_ns, NS_PER_SECOND)
    day_no, sod = divmod(secs, SECONDS_PER_DAY)
    y, m, d = civil_from_days(day_no)
    total_months = (y + years) * 12 + (m - 1) + months
    ny, nm0 = divmod(total_months, 12)
    new_days = days_from_civil(ny, nm0 + 1, 1) + (d - 1) + days
    return (new_days * SECONDS_PER_DAY + sod) * NS_PER_SECOND + nanos

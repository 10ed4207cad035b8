"""Civil-date arithmetic on day numbers and Go's AddDate."""

from __future__ import annotations

import pytest
from daprjobs.core.gregorian import add_calendar, civil_from_days, days_from_civil
from daprjobs.core.rfc3339 import format_rfc3339, parse_rfc3339


def ts(s: str) -> int:
    return parse_rfc3339(s)


def test_civil_day_arithmetic_round_trips_across_four_centuries() -> None:
    for day in range(-800_000, 800_000, 97):
        y, m, d = civil_from_days(day)
        assert days_from_civil(y, m, d) == day
    assert civil_from_days(0) == (1970, 1, 1)
    assert civil_from_days(days_from_civil(2000, 2, 29)) == (2000, 2, 29)
    assert civil_from_days(days_from_civil(1900, 2, 29)) == (1900, 3, 1)  # 1900 is not a leap year


# --- AddDate --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "ymd", "expected"),
    [
        ("2023-01-31T10:00:00Z", (0, 1, 0), "2023-03-03T10:00:00Z"),  # Go normalises Feb 31
        ("2024-01-31T10:00:00Z", (0, 1, 0), "2024-03-02T10:00:00Z"),  # leap year
        ("2024-02-29T00:00:00Z", (1, 0, 0), "2025-03-01T00:00:00Z"),
        ("2024-02-29T00:00:00Z", (4, 0, 0), "2028-02-29T00:00:00Z"),
        ("2024-12-15T00:00:00.25Z", (0, 1, 0), "2025-01-15T00:00:00.25Z"),
        ("2024-03-01T00:00:00Z", (0, 0, -1), "2024-02-29T00:00:00Z"),
        ("2024-01-01T00:00:00Z", (0, -1, 0), "2023-12-01T00:00:00Z"),
        ("2024-01-01T00:00:00Z", (0, 0, 366), "2025-01-01T00:00:00Z"),
        ("2024-05-31T23:59:59Z", (0, 0, 1), "2024-06-01T23:59:59Z"),
        ("2024-01-01T00:00:00Z", (0, 25, 0), "2026-02-01T00:00:00Z"),
    ],
)
def test_add_calendar_is_go_add_date(base: str, ymd: tuple[int, int, int], expected: str) -> None:
    assert format_rfc3339(add_calendar(ts(base), *ymd)) == expected

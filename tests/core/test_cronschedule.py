"""Next-fire rules of cron specs in UTC and of @every."""

from __future__ import annotations

import pytest
from daprjobs.core.cronschedule import EverySchedule
from daprjobs.core.cronspec import parse_schedule
from daprjobs.core.timeunits import NS_PER_MS, NS_PER_SECOND

from tests.core.fire_times import fires, nxt, ts

S = NS_PER_SECOND


# --- next-fire math (UTC) -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "after", "expected"),
    [
        ("* * * * * *", "2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z"),  # strictly after
        ("* * * * * *", "2024-01-01T00:00:00.999999999Z", "2024-01-01T00:00:01Z"),
        ("* * * * * *", "2024-01-01T00:00:00.000000001Z", "2024-01-01T00:00:01Z"),
        ("0 * * * * *", "2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z"),
        ("30 * * * * *", "2024-01-01T00:00:29.5Z", "2024-01-01T00:00:30Z"),
        ("0 0 * * * *", "2024-01-01T00:59:59Z", "2024-01-01T01:00:00Z"),
        ("@hourly", "2024-12-31T23:30:00Z", "2025-01-01T00:00:00Z"),
        ("@daily", "2024-02-28T12:00:00Z", "2024-02-29T00:00:00Z"),
        ("@monthly", "2024-01-31T00:00:00Z", "2024-02-01T00:00:00Z"),
        ("@yearly", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
        ("@weekly", "2024-01-01T00:00:00Z", "2024-01-07T00:00:00Z"),  # 2024-01-01 is a Monday
        ("0 0 0 29 2 *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),  # leap day
        ("0 0 0 29 2 *", "2096-03-01T00:00:00Z", None),  # 2100 is no leap year; 2104 is beyond 5 years
        ("0 0 0 31 * *", "2024-04-01T00:00:00Z", "2024-05-31T00:00:00Z"),  # skips 30-day months
        ("0 0 12 * * MON", "2024-01-01T12:00:00Z", "2024-01-08T12:00:00Z"),
        ("0 0 0 13 * FRI", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z"),  # both restricted: OR
        ("0 0 0 13 * *", "2024-01-01T00:00:00Z", "2024-01-13T00:00:00Z"),  # dow star: dom alone
        ("0 0 0 * * FRI", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z"),  # dom star: dow alone
        ("0 0 0 ? * FRI", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z"),
        ("0 0 0 */1 * FRI", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z"),  # */1 is still a star
        ("0 0 0 1-31 * FRI", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"),  # a range is not: OR
        ("0 0 0 */2 * FRI", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"),  # */2 is not: OR
        ("0 30 9 * * 1-5", "2024-01-05T10:00:00Z", "2024-01-08T09:30:00Z"),  # weekdays
        ("15 10 8 4 7 *", "2024-07-04T08:10:15Z", "2025-07-04T08:10:15Z"),
        ("0 0 0 1 1 *", "2024-12-31T23:59:59.5Z", "2025-01-01T00:00:00Z"),
        ("0 0 0 30 2 *", "2024-01-01T00:00:00Z", None),  # no Feb 30 within 5 years
        ("0 0 0 31 4,6,9,11 *", "2024-01-01T00:00:00Z", None),
        ("0 0 0 1 1 *", "1999-06-01T00:00:00Z", "2000-01-01T00:00:00Z"),
        ("0 0 0 * * *", "1969-12-31T12:00:00Z", "1970-01-01T00:00:00Z"),  # before the epoch
        ("0,,30 * * * * *", "2024-01-01T00:00:10Z", "2024-01-01T00:00:30Z"),
    ],
)
def test_next_utc(spec: str, after: str, expected: str | None) -> None:
    assert nxt(spec, after) == expected


def test_five_year_limit_counts_from_the_start_year() -> None:
    # 2100 is not a leap year: from 2097 the next Feb 29 is 2104 (> 2097+5).
    assert nxt("0 0 0 29 2 *", "2097-01-01T00:00:00Z") is None
    assert nxt("0 0 0 29 2 *", "2099-01-01T00:00:00Z") == "2104-02-29T00:00:00Z"


def test_sequences() -> None:
    assert fires("*/20 * * * * *", "2024-01-01T00:00:50Z", 4) == [
        "2024-01-01T00:01:00Z",
        "2024-01-01T00:01:20Z",
        "2024-01-01T00:01:40Z",
        "2024-01-01T00:02:00Z",
    ]
    assert fires("0 0 0 28-31 * *", "2023-02-27T00:00:00Z", 4) == [
        "2023-02-28T00:00:00Z",
        "2023-03-28T00:00:00Z",
        "2023-03-29T00:00:00Z",
        "2023-03-30T00:00:00Z",
    ]


def test_every_is_exact_and_sub_second() -> None:
    sched = parse_schedule("@every 1.5s")
    assert isinstance(sched, EverySchedule)
    assert sched.next(123) == 123 + 1_500_000_000
    assert parse_schedule("@every 10ms").next(ts("2024-01-01T00:00:00.995Z")) == ts("2024-01-01T00:00:01.005Z")
    assert parse_schedule("@every 1ns").next(0) == 1
    assert parse_schedule("@every 0h0m5s0ms0\u03bcs").next(0) == 5 * S
    assert parse_schedule("@every 250ms").next(7 * NS_PER_MS) == 257 * NS_PER_MS

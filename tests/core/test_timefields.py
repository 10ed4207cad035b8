"""Due times, TTLs and reminder periods as Dapr's scheduler reads them."""

from __future__ import annotations

import pytest
from daprjobs.core.rfc3339 import format_rfc3339, parse_rfc3339
from daprjobs.core.timefields import TimeFormatError, parse_period, parse_point_in_time
from daprjobs.core.timeunits import NS_PER_HOUR, NS_PER_MS, NS_PER_SECOND

S = NS_PER_SECOND


def ts(s: str) -> int:
    return parse_rfc3339(s)


# --- due time / ttl -------------------------------------------------------------------------------------------------


BASE = ts("2024-01-31T10:00:00Z")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-06-01T00:00:00Z", "2024-06-01T00:00:00Z"),
        ("2024-06-01T02:00:00+02:00", "2024-06-01T00:00:00Z"),
        ("2000-01-01T00:00:00Z", "2000-01-01T00:00:00Z"),  # in the past is fine
        ("10s", "2024-01-31T10:00:10Z"),
        ("1h30m", "2024-01-31T11:30:00Z"),
        ("-1h", "2024-01-31T09:00:00Z"),
        ("0", "2024-01-31T10:00:00Z"),
        ("0h0m0s0ms0\u03bcs", "2024-01-31T10:00:00Z"),
        ("500ms", "2024-01-31T10:00:00.5Z"),
        ("PT2H30M", "2024-01-31T12:30:00Z"),
        ("P1M", "2024-03-02T10:00:00Z"),  # calendar month via AddDate normalisation (2024 is leap)
        ("P1DT1H", "2024-02-01T11:00:00Z"),
        ("P1W", "2024-02-07T10:00:00Z"),
        ("R0/PT1S", "2024-01-31T10:00:01Z"),  # kit: only repeats > 0 are refused
        ("PT5s", "2024-01-31T10:00:00Z"),  # kit skips the unknown 's': zero
    ],
)
def test_parse_point_in_time_forms(text: str, expected: str) -> None:
    assert format_rfc3339(parse_point_in_time(text, BASE, "due time")) == expected
    assert format_rfc3339(parse_point_in_time(text, BASE, "ttl")) == expected


@pytest.mark.parametrize("text", ["", "tomorrow", "10", "1d", "2024-13-01T00:00:00Z", "P1.5D", "10 s"])
def test_parse_point_in_time_unrecognized(text: str) -> None:
    with pytest.raises(TimeFormatError) as info:
        parse_point_in_time(text, BASE, "due time")
    assert str(info.value) == "due time format not recognized"
    with pytest.raises(TimeFormatError) as info:
        parse_point_in_time(text, BASE, "ttl")
    assert str(info.value) == "ttl format not recognized"


def test_repeats_in_due_time_and_ttl() -> None:
    with pytest.raises(TimeFormatError) as info:
        parse_point_in_time("R5/PT1S", BASE, "due time")
    assert str(info.value) == "repeats not supported for due time"
    # go-etcd-cron replaces every ttl parse error with its own text.
    with pytest.raises(TimeFormatError) as info:
        parse_point_in_time("R5/PT1S", BASE, "ttl")
    assert str(info.value) == "ttl format not recognized"


def test_point_in_time_outside_timestamp_range_is_refused() -> None:
    with pytest.raises(TimeFormatError):
        parse_point_in_time("P9000Y", BASE, "due time")
    with pytest.raises(TimeFormatError):
        parse_point_in_time("-2562047h", ts("0001-01-01T00:00:00Z"), "ttl")


# --- reminder period ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT10S", (10 * S, None)),
        ("R5/PT10S", (10 * S, 5)),
        ("R5/PT1M30S", (90 * S, 5)),
        ("PT24H", (24 * NS_PER_HOUR, None)),
        ("10s", (10 * S, None)),
        ("1m30s", (90 * S, None)),
        ("0h0m5s0ms0\u03bcs", (5 * S, None)),
        ("0h0m0s500ms0\u03bcs", (500 * NS_PER_MS, None)),
        ("R1/PT1S", (S, 1)),
        ("R-1/PT1S", (S, None)),  # kit: negative repetitions mean none
        ("R5", (0, 5)),  # kit's parser accepts it: zero interval, five times
    ],
)
def test_parse_period(text: str, expected: tuple[int, int | None]) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["P1D", "P1Y", "P1M", "P1W", "R5/P1DT1H", "PT1H1D", "1d", "abc", "", "-5s", "PT-5S"])
def test_parse_period_refuses_calendar_parts_and_garbage(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_period(text)
    assert str(info.value) == f"unsupported period format: {text}"


def test_parse_period_refuses_zero_repetitions() -> None:
    with pytest.raises(ValueError) as info:
        parse_period("R0/PT1S")
    assert "has zero repetitions" in str(info.value)
    assert "R0/PT1S" in str(info.value)


def test_parse_period_refuses_repeats_beyond_uint32() -> None:
    with pytest.raises(ValueError):
        parse_period("R4294967296/PT1S")
    assert parse_period("R4294967295/PT1S") == (S, 4294967295)

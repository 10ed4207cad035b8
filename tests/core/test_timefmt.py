"""Go duration / RFC 3339 / dapr-kit ISO-8601 parsing and formatting, as Dapr reads due times, TTLs and periods."""

from __future__ import annotations

import pytest
from daprjobs.core.go_duration import format_go_duration, parse_go_duration
from daprjobs.core.gregorian import add_calendar, civil_from_days, days_from_civil
from daprjobs.core.iso8601 import ISODuration, parse_iso8601_duration
from daprjobs.core.rfc3339 import format_rfc3339, parse_rfc3339
from daprjobs.core.timefields import TimeFormatError, parse_period, parse_point_in_time
from daprjobs.core.timeunits import NS_PER_HOUR, NS_PER_MINUTE, NS_PER_MS, NS_PER_SECOND, NS_PER_US

S = NS_PER_SECOND


def ts(s: str) -> int:
    return parse_rfc3339(s)


# --- Go ParseDuration -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("+0", 0),
        ("-0", 0),
        ("0s", 0),
        ("5s", 5 * S),
        ("+5s", 5 * S),
        ("-2m", -2 * NS_PER_MINUTE),
        ("1h30m", 90 * NS_PER_MINUTE),
        ("1.5s", 1_500_000_000),
        (".5s", 500_000_000),
        ("5.s", 5 * S),
        ("1.5h", 90 * NS_PER_MINUTE),
        ("500ms", 500 * NS_PER_MS),
        ("10us", 10 * NS_PER_US),
        ("10\u00b5s", 10 * NS_PER_US),  # MICRO SIGN
        ("10\u03bcs", 10 * NS_PER_US),  # GREEK MU, what the Python SDK sends
        ("7ns", 7),
        ("1h1m1s1ms1us1ns", NS_PER_HOUR + NS_PER_MINUTE + S + NS_PER_MS + NS_PER_US + 1),
        ("0h0m5s0ms0\u03bcs", 5 * S),  # Python SDK's rendering of 5 s
        ("25h0m0s5ms0\u03bcs", 25 * NS_PER_HOUR + 5 * NS_PER_MS),
        ("1s1s", 2 * S),  # units may repeat; Go just sums
        ("2m1h", NS_PER_HOUR + 2 * NS_PER_MINUTE),  # any order
        ("0.000000001s", 1),
        ("0.0000000001s", 0),  # below a nanosecond truncates
        ("1.0000000000000000000000001s", S),  # long fractions are fine
        ("9223372036854775807ns", (1 << 63) - 1),
        ("-9223372036854775808ns", -(1 << 63)),
        ("2562047h47m16.854775807s", (1 << 63) - 1),
    ],
)
def test_parse_go_duration_accepts(text: str, ns: int) -> None:
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("-", 'time: invalid duration "-"'),
        ("+", 'time: invalid duration "+"'),
        ("s", 'time: invalid duration "s"'),
        (".s", 'time: invalid duration ".s"'),
        ("-.s", 'time: invalid duration "-.s"'),
        ("1", 'time: missing unit in duration "1"'),
        ("1.5", 'time: missing unit in duration "1.5"'),
        ("10s5", 'time: missing unit in duration "10s5"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("5S", 'time: unknown unit "S" in duration "5S"'),
        ("5 s", 'time: unknown unit " s" in duration "5 s"'),
        ("1x\u00b5s", 'time: unknown unit "x\\xc2\\xb5s" in duration "1x\\xc2\\xb5s"'),
        (" 5s", 'time: invalid duration " 5s"'),
        ("--5s", 'time: invalid duration "--5s"'),
        ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
        ("2562048h", 'time: invalid duration "2562048h"'),
        ("99999999999999999999s", 'time: invalid duration "99999999999999999999s"'),
        ("5000000h5000000h", 'time: invalid duration "5000000h5000000h"'),
        ('"5s"', 'time: invalid duration "\\"5s\\""'),
    ],
)
def test_parse_go_duration_rejects_with_go_text(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_go_duration(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (999, "999ns"),
        (NS_PER_US, "1\u00b5s"),
        (2 * NS_PER_US, "2\u00b5s"),
        (1_500, "1.5\u00b5s"),
        (NS_PER_MS, "1ms"),
        (500 * NS_PER_MS, "500ms"),
        (1_234_567, "1.234567ms"),
        (S, "1s"),
        (1_500_000_000, "1.5s"),
        (90 * S, "1m30s"),
        (60 * S, "1m0s"),
        (NS_PER_HOUR, "1h0m0s"),
        (25 * NS_PER_HOUR + 5 * NS_PER_MS, "25h0m0.005s"),
        (NS_PER_HOUR + 1, "1h0m0.000000001s"),
        (-2 * NS_PER_MINUTE, "-2m0s"),
        (-1, "-1ns"),
        (-1_500_000_000, "-1.5s"),
        ((1 << 63) - 1, "2562047h47m16.854775807s"),
        (-(1 << 63), "-2562047h47m16.854775808s"),
    ],
)
def test_format_go_duration_matches_go_string(ns: int, text: str) -> None:
    assert format_go_duration(ns) == text


@pytest.mark.parametrize("ns", [0, 1, 999, 1_000, 1_500, 5 * S, 90 * S, NS_PER_HOUR, 123_456_789_012, -7 * S])
def test_format_then_parse_round_trips(ns: int) -> None:
    assert parse_go_duration(format_go_duration(ns)) == ns


# --- ISO-8601 (dapr/kit) --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT10S", ISODuration(0, 0, 0, 0, 10 * S, None)),
        ("PT1H30M", ISODuration(0, 0, 0, 0, 90 * NS_PER_MINUTE, None)),
        ("P1Y2M3W4DT5H6M7S", ISODuration(1, 2, 3, 4, 5 * NS_PER_HOUR + 6 * NS_PER_MINUTE + 7 * S, None)),
        ("P1M", ISODuration(0, 1, 0, 0, 0, None)),
        ("PT1M", ISODuration(0, 0, 0, 0, NS_PER_MINUTE, None)),
        ("P1MT1M", ISODuration(0, 1, 0, 0, NS_PER_MINUTE, None)),
        ("R5/PT1M30S", ISODuration(0, 0, 0, 0, 90 * S, 5)),
        ("R0/PT1S", ISODuration(0, 0, 0, 0, S, 0)),
        ("R-1/PT1S", ISODuration(0, 0, 0, 0, S, -1)),  # strconv.Atoi takes the sign
        ("R5/", ISODuration(0, 0, 0, 0, 0, 5)),
        ("R5", ISODuration(0, 0, 0, 0, 0, 5)),
        ("PT", ISODuration(0, 0, 0, 0, 0, None)),
        ("P1", ISODuration(0, 0, 0, 0, 0, None)),  # trailing number without designator is ignored
        ("PT5s", ISODuration(0, 0, 0, 0, 0, None)),  # unknown characters are skipped: lower-case s is not S
        ("P1D1D", ISODuration(0, 0, 0, 2, 0, None)),  # days add up
        ("P1Y2Y", ISODuration(2, 0, 0, 0, 0, None)),  # years overwrite
        ("P1W", ISODuration(0, 0, 1, 0, 0, None)),
        ("PT-5S", ISODuration(0, 0, 0, 0, -5 * S, None)),
        ("PT+5S", ISODuration(0, 0, 0, 0, 5 * S, None)),
        ("PT36H", ISODuration(0, 0, 0, 0, 36 * NS_PER_HOUR, None)),
    ],
)
def test_parse_iso8601_duration_matches_kit(text: str, expected: ISODuration) -> None:
    assert parse_iso8601_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P",
        "R",
        "R/PT1S",
        "Rx/PT1S",
        "R5/XT1S",
        "10s",
        "pt5s",
        "PT5H1D",  # date designator in the time part
        "P5H",  # time designator in the date part
        "P5S",
        "PD",  # designator without a number
        "PTS",
        "P1.5D",  # integers only
        "PT1.5S",
        "PT1_0S",
        "P 1D",
        "P1XT1S",  # T after pending characters
    ],
)
def test_parse_iso8601_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_iso8601_duration(text)
    assert str(info.value) == f"unsupported ISO8601 duration format: {text}"


def test_iso_t_right_after_a_date_component_is_accepted() -> None:
    # `start != i` is false right after a designator, so "P1DT" ends with an empty time part.
    assert parse_iso8601_duration("P1DT") == ISODuration(0, 0, 0, 1, 0, None)
    assert parse_iso8601_duration("P1YT") == ISODuration(1, 0, 0, 0, 0, None)


# --- RFC 3339 -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:01Z", S),
        ("1969-12-31T23:59:59Z", -S),
        ("2024-02-29T12:00:00Z", 1_709_208_000 * S),
        ("2024-02-29T12:00:00.5Z", 1_709_208_000 * S + 500_000_000),
        ("2024-02-29T12:00:00,5Z", 1_709_208_000 * S + 500_000_000),
        ("2024-02-29T12:00:00.123456789Z", 1_709_208_000 * S + 123_456_789),
        ("2024-02-29T12:00:00.1234567891234Z", 1_709_208_000 * S + 123_456_789),
        ("2024-02-29T14:00:00+02:00", 1_709_208_000 * S),
        ("2024-02-29T2:00:00-10:00", 1_709_208_000 * S),  # Go reads the hour with one or two digits
        ("2024-02-29T12:00:00+24:00", 1_709_208_000 * S - 24 * 3600 * S),  # Go's parser allows a 24h offset
        ("2024-02-29T07:30:00-04:30", 1_709_208_000 * S),
        ("0001-01-01T00:00:00Z", -62_135_596_800 * S),
        ("9999-12-31T23:59:59.999999999Z", 253_402_300_799 * S + 999_999_999),
    ],
)
def test_parse_rfc3339(text: str, ns: int) -> None:
    assert parse_rfc3339(text) == ns


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-30T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-00-01T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:60:00Z",
        "2024-01-01T00:00:60Z",
        "2024-01-01 00:00:00Z",
        "2024-01-01t00:00:00Z",
        "2024-01-01T00:00:00z",
        "2024-01-01T00:00:00",
        "2024-01-01T00:00:00+0200",
        "2024-01-01T00:00:00+25:00",
        "2024-01-01T001:00:00Z",
        "2024-01-01T00:0:00Z",
        "2024-01-01T00:00:00.Z",
        "2024-1-01T00:00:00Z",
        "",
    ],
)
def test_parse_rfc3339_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rfc3339(text)


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (500_000_000, "1970-01-01T00:00:00.5Z"),
        (1_709_208_000 * S + 123_456_789, "2024-02-29T12:00:00.123456789Z"),
        (1_709_208_000 * S + 120_000_000, "2024-02-29T12:00:00.12Z"),
        (1_709_208_000 * S + 1, "2024-02-29T12:00:00.000000001Z"),
        (-1, "1969-12-31T23:59:59.999999999Z"),
        (-62_135_596_800 * S, "0001-01-01T00:00:00Z"),
    ],
)
def test_format_rfc3339_nano(ns: int, text: str) -> None:
    assert format_rfc3339(ns) == text
    assert parse_rfc3339(text) == ns


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

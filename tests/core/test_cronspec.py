"""Schedules: Dapr's (robfig-derived) cron grammar, its error texts and its next-fire rules."""

from __future__ import annotations

import random

import pytest
from daprjobs.core.cronschedule import CronSchedule, EverySchedule
from daprjobs.core.cronspec import ScheduleError, parse_schedule
from daprjobs.core.rfc3339 import format_rfc3339, parse_rfc3339
from daprjobs.core.timeunits import NS_PER_MS, NS_PER_SECOND

S = NS_PER_SECOND


def ts(s: str) -> int:
    return parse_rfc3339(s)


def nxt(spec: str, after: str) -> str | None:
    r = parse_schedule(spec).next(ts(after))
    return None if r is None else format_rfc3339(r)


def fires(spec: str, after: str, n: int) -> list[str]:
    sched = parse_schedule(spec)
    t = ts(after)
    out = []
    for _ in range(n):
        r = sched.next(t)
        assert r is not None
        out.append(format_rfc3339(r))
        t = r
    return out


# --- errors ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty spec string"),
        ("* * * * *", "expected exactly 6 fields, found 5: [* * * * *]"),
        ("0 * * * * * *", "expected exactly 6 fields, found 7: [0 * * * * * *]"),
        ("   ", "expected exactly 6 fields, found 0: []"),
        ("a  b\tc", "expected exactly 6 fields, found 3: [a b c]"),
        ("@every", "unrecognized descriptor: @every"),
        ("@Daily", "unrecognized descriptor: @Daily"),
        ("@daily ", "unrecognized descriptor: @daily "),
        ("@reboot", "unrecognized descriptor: @reboot"),
        ("@every 5", 'failed to parse duration @every 5: time: missing unit in duration "5"'),
        ("@every 1d", 'failed to parse duration @every 1d: time: unknown unit "d" in duration "1d"'),
        ("@every  5s", 'failed to parse duration @every  5s: time: invalid duration " 5s"'),
        ("@every x", 'failed to parse duration @every x: time: invalid duration "x"'),
        ("0-60 * * * * *", "end of range (60) above maximum (59): 0-60"),
        ("60 * * * * *", "end of range (60) above maximum (59): 60"),
        ("* 60 * * * *", "end of range (60) above maximum (59): 60"),
        ("* * 24 * * *", "end of range (24) above maximum (23): 24"),
        ("* * * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("* * * 32 * *", "end of range (32) above maximum (31): 32"),
        ("* * * * 0 *", "beginning of range (0) below minimum (1): 0"),
        ("* * * * 13 *", "end of range (13) above maximum (12): 13"),
        ("* * * * * 7", "end of range (7) above maximum (6): 7"),
        ("5-1 * * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("*/0 * * * * *", "step of range should be a positive number: */0"),
        ("1-2-3 * * * * *", "too many hyphens: 1-2-3"),
        ("*/2/3 * * * * *", "too many slashes: */2/3"),
        ("x * * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        ("*/x * * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        ("-5 * * * * *", 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'),
        ("1-x * * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        ("*/-1 * * * * *", "negative number (-1) not allowed: -1"),
        ("1.5 * * * * *", 'failed to parse int from 1.5: strconv.Atoi: parsing "1.5": invalid syntax'),
        (
            "99999999999999999999 * * * * *",
            "failed to parse int from 99999999999999999999: strconv.Atoi: parsing "
            '"99999999999999999999": value out of range',
        ),
        ("* * * * foo *", 'failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax'),
        ("* * * * * sunday", 'failed to parse int from sunday: strconv.Atoi: parsing "sunday": invalid syntax'),
        ("* * * * jan-foo *", 'failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax'),
        # The first bad field (seconds first) is the one reported.
        ("61 61 * * * *", "end of range (61) above maximum (59): 61"),
        ("0 0 25 32 * *", "end of range (25) above maximum (23): 25"),
        ("CRON_TZ=Not/AZone 0 0 9 * * *", "provided bad location Not/AZone: unknown time zone Not/AZone"),
        ("TZ=Nowhere 0 0 9 * * *", "provided bad location Nowhere: unknown time zone Nowhere"),
        ("TZ=../etc/passwd * * * * * *", "provided bad location ../etc/passwd: time: invalid location name"),
        ("TZ=/etc/localtime * * * * * *", "provided bad location /etc/localtime: time: invalid location name"),
        ("CRON_TZ=UTC * * * * *", "expected exactly 6 fields, found 5: [* * * * *]"),
        ("CRON_TZ=UTC ", "expected exactly 6 fields, found 0: []"),
    ],
)
def test_parse_errors_are_kits(spec: str, message: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(spec)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "spec",
    [
        "CRON_TZ=Europe/Rome @every 1h",  # Dapr's integration tests require a refusal
        "TZ=UTC @every 1s",
        "@every 0s",
        "@every 0",
        "@every -1s",
        "TZ=UTC",  # Go would panic slicing the zone name
        "CRON_TZ=Europe/Rome",
    ],
)
def test_deliberately_refused_specs(spec: str) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(spec)


def test_zone_and_every_error_texts() -> None:
    # Texts of the dapr/kit Dapr 1.18 pins (kit #160-#162); the zero-interval one is daprjobs' own.
    with pytest.raises(ScheduleError) as info:
        parse_schedule("@every 0s")
    assert str(info.value) == "@every duration must be positive: @every 0s"
    with pytest.raises(ScheduleError) as info:
        parse_schedule("CRON_TZ=Europe/Rome @every 1h")
    assert str(info.value) == "timezone is not supported for @every schedules: CRON_TZ=Europe/Rome @every 1h"
    # Checked before the duration is even parsed.
    with pytest.raises(ScheduleError) as info:
        parse_schedule("TZ=UTC   @every nonsense")
    assert str(info.value) == "timezone is not supported for @every schedules: TZ=UTC   @every nonsense"
    with pytest.raises(ScheduleError) as info:
        parse_schedule("CRON_TZ=Europe/Rome")
    assert str(info.value) == "timezone prefix is not followed by a schedule: CRON_TZ=Europe/Rome"
    # A bad zone is reported before anything about the schedule.
    with pytest.raises(ScheduleError) as info:
        parse_schedule("TZ=Bad/Zone @every 1h")
    assert str(info.value) == "provided bad location Bad/Zone: unknown time zone Bad/Zone"


def test_zone_prefix_with_descriptors_and_whitespace() -> None:
    assert nxt("CRON_TZ=Asia/Tokyo @daily", "2024-06-01T00:00:00Z") == "2024-06-01T15:00:00Z"
    assert nxt("TZ=Asia/Tokyo \t 0 0 9 * * *", "2024-06-01T00:00:00Z") == "2024-06-02T00:00:00Z"
    assert nxt("TZ= 0 0 9 * * *", "2024-06-01T00:00:00Z") == "2024-06-01T09:00:00Z"  # empty zone is UTC
    # The zone name ends at the first ASCII space only.
    with pytest.raises(ScheduleError, match="provided bad location"):
        parse_schedule("TZ=Asia/Tokyo\t0 0 9 * * *")


def test_fields_split_on_go_white_space_only() -> None:
    assert nxt("0\u3000 0\xa09 * * *", "2024-06-01T00:00:00Z") == "2024-06-01T09:00:00Z"
    # U+001F is white space to Python but not to Go: one field "0\x1f0", which is not a number.
    with pytest.raises(ScheduleError) as info:
        parse_schedule("0\x1f0 0 9 * * *")
    assert str(info.value) == 'failed to parse int from 0\x1f0: strconv.Atoi: parsing "0\\x1f0": invalid syntax'


def test_parse_is_cached() -> None:
    assert parse_schedule("0 */5 * * * *") is parse_schedule("0 */5 * * * *")


# --- field grammar --------------------------------------------------------------------------------------------------


def bits(*values: int) -> int:
    out = 0
    for v in values:
        out |= 1 << v
    return out


STAR = 1 << 63


@pytest.mark.parametrize(
    ("spec", "field", "expected"),
    [
        ("5 * * * * *", "second", bits(5)),
        ("1,2,3 * * * * *", "second", bits(1, 2, 3)),
        ("1,,3 * * * * *", "second", bits(1, 3)),  # empty list items are dropped
        ("10-12 * * * * *", "second", bits(10, 11, 12)),
        ("*/15 * * * * *", "second", bits(0, 15, 30, 45)),
        ("?/15 * * * * *", "second", bits(0, 15, 30, 45)),
        ("5/15 * * * * *", "second", bits(5, 20, 35, 50)),  # N/step = N-max/step
        ("10-40/10 * * * * *", "second", bits(10, 20, 30, 40)),
        ("50/1 * * * * *", "second", bits(*range(50, 60))),
        ("* * * * * *", "second", bits(*range(60)) | STAR),
        ("*/1 * * * * *", "second", bits(*range(60)) | STAR),  # step 1 keeps the star mark
        ("? * * * * *", "second", bits(*range(60)) | STAR),
        ("+5 * * * * *", "second", bits(5)),  # strconv.Atoi accepts a plus sign
        ("0 0 0 * JAN-mar *", "month", bits(1, 2, 3)),
        ("0 0 0 * Dec,jan *", "month", bits(12, 1)),
        ("0 0 0 * * MON-fri", "dow", bits(1, 2, 3, 4, 5)),
        ("0 0 0 * * sun,SAT", "dow", bits(0, 6)),
        ("0 0 0 * * 0-6/2", "dow", bits(0, 2, 4, 6)),
        ("0 0 0 L * *", "dom", None),
    ],
)
def test_field_bits(spec: str, field: str, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(ScheduleError):
            parse_schedule(spec)
        return
    sched = parse_schedule(spec)
    assert isinstance(sched, CronSchedule)
    assert getattr(sched, field) == expected


@pytest.mark.parametrize(
    ("descriptor", "equivalent"),
    [
        ("@yearly", "0 0 0 1 1 *"),
        ("@annually", "0 0 0 1 1 *"),
        ("@monthly", "0 0 0 1 * *"),
        ("@weekly", "0 0 0 * * 0"),
        ("@daily", "0 0 0 * * *"),
        ("@midnight", "0 0 0 * * *"),
        ("@hourly", "0 0 * * * *"),
    ],
)
def test_descriptors_equal_their_specs(descriptor: str, equivalent: str) -> None:
    a, b = parse_schedule(descriptor), parse_schedule(equivalent)
    t = ts("2023-06-15T13:14:15Z")
    for _ in range(5):
        na, nb = a.next(t), b.next(t)
        assert na == nb
        assert na is not None
        t = na


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


# --- time zones -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "after", "expected"),
    [
        # Spring forward (America/New_York, 2012-03-11 02:00 EST -> 03:00 EDT).
        ("TZ=America/New_York 0 30 2 11 Mar ?", "2012-03-11T00:00:00-05:00", "2013-03-11T02:30:00-04:00"),
        ("TZ=America/New_York 0 0 * * * ?", "2012-03-11T00:00:00-05:00", "2012-03-11T01:00:00-05:00"),
        ("TZ=America/New_York 0 0 * * * ?", "2012-03-11T01:00:00-05:00", "2012-03-11T03:00:00-04:00"),
        ("CRON_TZ=America/New_York 0 0 * * * ?", "2012-03-11T03:00:00-04:00", "2012-03-11T04:00:00-04:00"),
        ("TZ=America/New_York 0 0 1 * * ?", "2012-03-11T01:00:00-05:00", "2012-03-12T01:00:00-04:00"),
        # The 02:00 that does not exist is skipped, not moved.
        ("TZ=America/New_York 0 0 2 * * ?", "2012-03-11T00:00:00-05:00", "2012-03-12T02:00:00-04:00"),
        # Fall back (2012-11-04 02:00 EDT -> 01:00 EST): an hourly spec fires in both 01:00s.
        ("TZ=America/New_York 0 0 * * * ?", "2012-11-04T00:00:00-04:00", "2012-11-04T01:00:00-04:00"),
        ("TZ=America/New_York 0 0 * * * ?", "2012-11-04T01:00:00-04:00", "2012-11-04T01:00:00-05:00"),
        ("TZ=America/New_York 0 0 * * * ?", "2012-11-04T01:00:00-05:00", "2012-11-04T02:00:00-05:00"),
        # ... and so does a daily 01:00 spec (robfig's behaviour), then on to the next day.
        ("TZ=America/New_York 0 0 1 * * ?", "2012-11-04T00:00:00-04:00", "2012-11-04T01:00:00-04:00"),
        ("TZ=America/New_York 0 0 1 * * ?", "2012-11-04T01:00:00-04:00", "2012-11-04T01:00:00-05:00"),
        ("TZ=America/New_York 0 0 1 * * ?", "2012-11-04T01:00:00-05:00", "2012-11-05T01:00:00-05:00"),
        ("TZ=America/New_York 0 0 2 * * ?", "2012-11-04T00:00:00-04:00", "2012-11-04T02:00:00-05:00"),
        ("TZ=America/New_York 0 0 3 * * ?", "2012-11-04T00:00:00-04:00", "2012-11-04T03:00:00-05:00"),
        ("TZ=America/New_York 0 30 2 04 Nov ?", "2012-11-04T00:00:00-04:00", "2012-11-04T02:30:00-05:00"),
        ("TZ=America/New_York 0 30 1 04 Nov ?", "2012-11-04T01:45:00-04:00", "2012-11-04T01:30:00-05:00"),
        ("TZ=America/New_York 0 0 3 3 * ?", "2012-11-04T00:00:00-04:00", "2012-12-03T03:00:00-05:00"),
        # Midnight does not exist in Sao Paulo on DST start days (00:00 -> 01:00).
        ("TZ=America/Sao_Paulo 0 0 9 10 * ?", "2018-10-17T05:00:00-04:00", "2018-11-10T06:00:00-05:00"),
        ("TZ=America/Sao_Paulo 0 0 9 22 * ?", "2018-02-14T05:00:00-05:00", "2018-02-22T07:00:00-05:00"),
        # Europe: spring forward 2024-03-31 02:00 CET -> 03:00 CEST; fall back 2024-10-27 03:00 -> 02:00.
        ("CRON_TZ=Europe/Berlin 0 30 2 * * *", "2024-03-30T12:00:00Z", "2024-04-01T02:30:00+02:00"),
        ("CRON_TZ=Europe/Berlin 0 30 2 * * *", "2024-10-26T12:00:00Z", "2024-10-27T02:30:00+02:00"),
        ("CRON_TZ=Europe/Berlin 0 30 2 * * *", "2024-10-27T00:30:00Z", "2024-10-27T02:30:00+01:00"),
        ("CRON_TZ=Europe/Berlin 0 0 9 * * *", "2024-03-30T12:00:00Z", "2024-03-31T09:00:00+02:00"),
        ("CRON_TZ=Asia/Kolkata 0 0 9 * * *", "2024-01-01T00:00:00Z", "2024-01-01T09:00:00+05:30"),
        ("CRON_TZ=Asia/Kolkata 0 0 9 * * *", "2024-01-01T03:30:00Z", "2024-01-02T09:00:00+05:30"),
        ("TZ=UTC 0 0 9 * * *", "2024-01-01T09:00:00Z", "2024-01-02T09:00:00Z"),
        ("TZ=Local 0 0 9 * * *", "2024-01-01T09:00:00Z", "2024-01-02T09:00:00Z"),  # Local = the argument's zone
    ],
)
def test_next_in_zone_follows_robfig_across_dst(spec: str, after: str, expected: str) -> None:
    got = parse_schedule(spec).next(ts(after))
    assert got == ts(expected)


def test_europe_spring_forward_skips_the_missing_half_hour() -> None:
    # 2024-03-31 02:30 does not exist in Berlin: the next 02:30 is on April 1st.
    assert nxt("CRON_TZ=Europe/Berlin 0 30 2 * * *", "2024-03-30T12:00:00Z") == "2024-04-01T00:30:00Z"


def test_zone_without_prefix_is_utc() -> None:
    assert nxt("0 0 9 * * *", "2024-06-01T00:00:00Z") == "2024-06-01T09:00:00Z"
    assert nxt("CRON_TZ=Asia/Tokyo 0 0 9 * * *", "2024-06-01T00:00:00Z") == "2024-06-02T00:00:00Z"


def test_zone_walk_agrees_with_utc_search_on_random_specs() -> None:
    """The UTC fast path and robfig's step-by-step walk (run in UTC) must pick the same instants."""
    rng = random.Random(1234)

    def field(lo: int, hi: int) -> str:
        kind = rng.randrange(6)
        if kind == 0:
            return "*"
        if kind == 1:
            return str(rng.randint(lo, hi))
        if kind == 2:
            a = rng.randint(lo, hi)
            return f"{a}-{rng.randint(a, hi)}"
        if kind == 3:
            return f"*/{rng.randint(1, hi - lo + 1)}"
        if kind == 4:
            return f"{rng.randint(lo, hi)}/{rng.randint(1, 10)}"
        return ",".join(str(rng.randint(lo, hi)) for _ in range(rng.randint(1, 4)))

    from zoneinfo import ZoneInfo

    utc = ZoneInfo("UTC")
    for _ in range(300):
        spec = " ".join([field(0, 59), field(0, 59), field(0, 23), field(1, 31), field(1, 12), field(0, 6)])
        fast = parse_schedule(spec)
        assert isinstance(fast, CronSchedule)
        slow = CronSchedule(fast.second, fast.minute, fast.hour, fast.dom, fast.month, fast.dow, zone=utc)
        t = rng.randrange(ts("1990-01-01T00:00:00Z"), ts("2090-01-01T00:00:00Z"))
        for _ in range(3):
            a, b = fast.next(t), slow.next(t)
            assert a == b, (spec, format_rfc3339(t))
            if a is None:
                break
            t = a


def _random_spec(rng: random.Random) -> str:
    def field(lo: int, hi: int) -> str:
        kind = rng.randrange(7)
        if kind == 0:
            return "*"
        if kind == 1:
            return str(rng.randint(lo, hi))
        if kind == 2:
            a = rng.randint(lo, hi)
            return f"{a}-{rng.randint(a, hi)}"
        if kind == 3:
            return f"*/{rng.randint(1, hi - lo + 1)}"
        if kind == 4:
            return f"{rng.randint(lo, hi)}/{rng.randint(1, 10)}"
        if kind == 5:
            return str(lo)
        return ",".join(str(rng.randint(lo, hi)) for _ in range(rng.randint(1, 4)))

    return " ".join([field(0, 59), field(0, 59), field(0, 23), field(1, 31), field(1, 12), field(0, 6)])


@pytest.mark.parametrize(
    ("zone", "around"),
    [
        ("America/New_York", ["2024-03-10T07:00:00Z", "2024-11-03T06:00:00Z"]),
        ("Europe/Berlin", ["2024-03-31T01:00:00Z", "2024-10-27T01:00:00Z"]),
        ("America/Sao_Paulo", ["2018-11-04T03:00:00Z", "2019-02-17T02:00:00Z"]),  # DST at midnight
        ("Australia/Lord_Howe", ["2024-04-06T15:00:00Z", "2024-10-05T15:30:00Z"]),  # 30-minute DST
        ("America/Havana", ["2024-03-10T05:00:00Z", "2024-11-03T05:00:00Z"]),  # DST at midnight
        ("Asia/Kolkata", ["2024-06-01T00:00:00Z"]),
    ],
)
def test_zone_jumps_equal_the_plain_robfig_walk(zone: str, around: list[str]) -> None:
    """The jumping walk must pick exactly what robfig's one-unit-at-a-time walk picks, near DST changes."""
    from zoneinfo import ZoneInfo

    rng = random.Random(zone)
    tz = ZoneInfo(zone)
    specs = ["0 0 * * * *", "0 30 * * * *", "0 0 2 * * *", "0 30 2 * * *", "0 0 0 * * *", "*/7 * * * * *"]
    specs += [_random_spec(rng) for _ in range(60)]
    for spec in specs:
        sched = parse_schedule(f"CRON_TZ={zone} {spec}")
        assert isinstance(sched, CronSchedule)
        for centre in around:
            t = ts(centre) + rng.randrange(-36 * 3600, 36 * 3600) * S
            for _ in range(4):
                start = t // S + 1
                fast = sched._next_zoned(start, tz, jump=True)
                slow = sched._next_zoned(start, tz, jump=False)
                assert fast == slow, (spec, format_rfc3339(t))
                if fast is None:
                    break
                t = fast * S


def test_fixed_offset_zone_equals_shifted_utc() -> None:
    """In a zone without DST, a spec fires at the UTC instants of the same wall times."""
    rng = random.Random(99)
    for _ in range(100):
        spec = _random_spec(rng)
        utc = parse_schedule(spec)
        tokyo = parse_schedule(f"CRON_TZ=Asia/Tokyo {spec}")  # +09:00, no DST since 1951
        t = rng.randrange(ts("2000-01-01T00:00:00Z"), ts("2040-01-01T00:00:00Z"))
        a = utc.next(t + 9 * 3600 * S)
        b = tokyo.next(t)
        assert (a is None and b is None) or (a is not None and b == a - 9 * 3600 * S), spec


def test_dst_decisions_in_plain_words() -> None:
    """robfig's (and so Dapr's) answers, which daprjobs keeps:
    - a wall time that does not exist (spring forward) is skipped that day, not moved;
    - a wall time that exists twice (fall back) fires twice, once per UTC offset;
    - hourly specs run 23 times on a spring-forward day and 25 times on a fall-back day."""
    ny = "CRON_TZ=America/New_York "
    assert fires(ny + "0 30 2 * * *", "2024-03-09T12:00:00Z", 2) == ["2024-03-11T06:30:00Z", "2024-03-12T06:30:00Z"]
    assert fires(ny + "0 30 1 * * *", "2024-11-02T12:00:00Z", 3) == [
        "2024-11-03T05:30:00Z",  # 01:30 EDT
        "2024-11-03T06:30:00Z",  # 01:30 EST
        "2024-11-04T06:30:00Z",
    ]

    def hourly_count(day_start: str, day_end: str) -> int:
        sched = parse_schedule(ny + "0 0 * * * *")
        t, end, n = ts(day_start) - 1, ts(day_end), 0
        while (r := sched.next(t)) is not None and r < end:
            n, t = n + 1, r
        return n

    assert hourly_count("2024-03-10T05:00:00Z", "2024-03-11T04:00:00Z") == 23
    assert hourly_count("2024-11-03T04:00:00Z", "2024-11-04T05:00:00Z") == 25
    assert hourly_count("2024-06-01T04:00:00Z", "2024-06-02T04:00:00Z") == 24

"""Parsing schedules: Dapr's (robfig-derived) cron grammar, descriptors, @every and their error texts."""

from __future__ import annotations

import pytest
from daprjobs.core.cronschedule import CronSchedule
from daprjobs.core.cronspec import ScheduleError, parse_schedule

from tests.core.fire_times import nxt, ts

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

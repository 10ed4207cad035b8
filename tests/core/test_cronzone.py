"""Next-fire rules in a named zone: robfig's wall-clock walk across DST changes."""

from __future__ import annotations

import random

import pytest
from daprjobs.core.cronschedule import CronSchedule
from daprjobs.core.cronspec import parse_schedule
from daprjobs.core.rfc3339 import format_rfc3339
from daprjobs.core.timeunits import NS_PER_SECOND

from tests.core.fire_times import fires, nxt, ts

S = NS_PER_SECOND


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

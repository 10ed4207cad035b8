"""The counter state machine: ticks, repeats, expiry, catch-up and the stored counter."""

from __future__ import annotations

import pytest
from daprjobs.core.counter import CounterState, due_at, on_failure, on_success, scheduled_tick
from daprjobs.core.cronspec import parse_schedule
from daprjobs.core.jobspec import FailurePolicy, ParsedJob, build_stored_job, parse_stored
from daprjobs.core.rfc3339 import format_rfc3339, parse_rfc3339
from daprjobs.proto.stored.v1 import stored_pb2

from tests.core.counter_driver import NOW, S, constant, job, run, t

# --- ticks ----------------------------------------------------------------------------------------------------------


def test_one_shot_fires_once_at_due_time() -> None:
    j = job(due_time="10s")
    st = CounterState()
    assert scheduled_tick(j, st) == NOW + 10 * S
    assert due_at(j, st) == NOW + 10 * S
    st = on_success(j, st)
    assert st == CounterState(count=1, last_trigger_ns=NOW + 10 * S, attempts=0)
    assert scheduled_tick(j, st) is None
    assert due_at(j, st) is None


def test_schedule_only_job_does_not_fire_at_creation() -> None:
    j = job(schedule="@every 5s")
    assert scheduled_tick(j, CounterState()) == NOW + 5 * S
    j = job(schedule="0 * * * * *")
    assert scheduled_tick(j, CounterState()) == NOW + 60 * S  # NOW is on a minute: strictly after


def test_due_time_with_schedule_fires_at_due_then_follows_schedule() -> None:
    j = job(schedule="@every 10s", due_time="3s")
    assert [w for w, _ in run(j, "sss")] == [
        t("2024-01-01T00:00:03Z"),
        t("2024-01-01T00:00:13Z"),
        t("2024-01-01T00:00:23Z"),
    ]
    j = job(schedule="0 0 * * * *", due_time="2024-01-01T00:00:30Z")
    assert [w for w, _ in run(j, "sss")] == [
        t("2024-01-01T00:00:30Z"),
        t("2024-01-01T01:00:00Z"),
        t("2024-01-01T02:00:00Z"),
    ]


def test_repeats_limit_ticks() -> None:
    j = job(schedule="@every 1s", repeats=3)
    assert run(j, "ssss") == [
        (t("2024-01-01T00:00:01Z"), "s"),
        (t("2024-01-01T00:00:02Z"), "s"),
        (t("2024-01-01T00:00:03Z"), "s"),
        ("done", "s"),
    ]


def test_one_repeat_one_shot() -> None:
    j = job(due_time="1s", repeats=1)
    assert run(j, "ss") == [(t("2024-01-01T00:00:01Z"), "s"), ("done", "s")]


def test_expiration_stops_ticks_after_it_inclusive_of_equal() -> None:
    j = job(schedule="@every 10s", ttl="30s")
    assert [w for w, _ in run(j, "sssss")] == [
        t("2024-01-01T00:00:10Z"),
        t("2024-01-01T00:00:20Z"),
        t("2024-01-01T00:00:30Z"),  # == expiration still fires
        "done",
    ]


def test_expiration_applies_to_the_first_tick_too() -> None:
    j = job(schedule="@every 10s", ttl="5s")
    assert scheduled_tick(j, CounterState()) is None
    j = job(schedule="@every 10s", ttl="2000-01-01T00:00:00Z")
    assert scheduled_tick(j, CounterState()) is None


def test_due_time_equal_to_expiration_fires_once() -> None:
    j = job(schedule="@every 1s", due_time="10s", ttl="0s")
    assert run(j, "ss") == [(t("2024-01-01T00:00:10Z"), "s"), ("done", "s")]


def test_repeats_and_ttl_whichever_first() -> None:
    j = job(schedule="@every 1s", repeats=2, ttl="1h")
    assert len([w for w, _ in run(j, "ssss") if w != "done"]) == 2
    j = job(schedule="@every 1s", repeats=100, ttl="2s")
    assert len([w for w, _ in run(j, "ssss") if w != "done"]) == 2


def test_sub_second_every() -> None:
    j = job(schedule="@every 250ms", repeats=4)
    assert [w for w, _ in run(j, "sssss")] == [
        t("2024-01-01T00:00:00.25Z"),
        t("2024-01-01T00:00:00.5Z"),
        t("2024-01-01T00:00:00.75Z"),
        t("2024-01-01T00:00:01Z"),
        "done",
    ]


def test_cron_with_no_match_in_five_years_finishes() -> None:
    # ScheduleJob now refuses such a schedule; a record stored before that (or by Dapr) still finishes.
    stored = build_stored_job(stored_pb2.UserJob(schedule="0 0 0 29 2 *"), NOW, 1)
    stored.job.schedule = "0 0 0 30 2 *"
    assert scheduled_tick(parse_stored(stored), CounterState()) is None


def test_leap_day_schedule() -> None:
    j = job(schedule="0 0 12 29 2 *")
    assert [w for w, _ in run(j, "ss")] == [t("2024-02-29T12:00:00Z"), t("2028-02-29T12:00:00Z")]


def test_dst_schedule_in_zone() -> None:
    # 02:30 Berlin does not exist on 2024-03-31: the job skips that day.
    j = parse_stored(
        build_stored_job(
            stored_pb2.UserJob(schedule="CRON_TZ=Europe/Berlin 0 30 2 * * *"),
            parse_rfc3339("2024-03-29T12:00:00Z"),
            1,
        )
    )
    assert [w for w, _ in run(j, "sss")] == [
        t("2024-03-30T01:30:00Z"),
        t("2024-04-01T00:30:00Z"),
        t("2024-04-02T00:30:00Z"),
    ]


# --- catch-up -------------------------------------------------------------------------------------------------------


def test_catch_up_fires_every_missed_tick_back_to_back() -> None:
    """Ticks follow the last *scheduled* time, so after downtime all missed ticks are due at once, in order."""
    j = job(schedule="@every 1m")
    st = CounterState()
    now = NOW + 10 * 60 * S + 30 * S  # the engine was down for 10.5 minutes
    fired = []
    while (when := due_at(j, st)) is not None and when <= now:
        fired.append(when)
        st = on_success(j, st)
    assert fired == [NOW + k * 60 * S for k in range(1, 11)]
    assert due_at(j, st) == NOW + 11 * 60 * S
    assert st.count == 10


def test_catch_up_stops_at_repeats_and_expiration() -> None:
    j = job(schedule="@every 1m", repeats=3)
    st = CounterState()
    fired = 0
    while due_at(j, st) is not None:
        fired += 1
        st = on_success(j, st)
    assert fired == 3


# --- proto round trip -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "st",
    [
        CounterState(),
        CounterState(count=3, last_trigger_ns=NOW + 123_456_789, attempts=2),
        CounterState(count=2**32 - 1, last_trigger_ns=-1, attempts=0),
        CounterState(count=0, last_trigger_ns=0, attempts=7),
    ],
)
def test_counter_proto_round_trip(st: CounterState) -> None:
    c = st.to_proto(partition_id=2**64 - 1)
    assert c.job_partition_id == 2**64 - 1
    assert c.HasField("last_trigger") == (st.last_trigger_ns is not None)
    back = stored_pb2.Counter.FromString(c.SerializeToString())
    assert CounterState.from_proto(back) == st


def test_fresh_counter_has_no_last_trigger() -> None:
    assert CounterState.from_proto(stored_pb2.Counter(job_partition_id=5)) == CounterState()


def test_counter_fields_wrap_like_go_uint32() -> None:
    c = CounterState(count=2**32 + 5, last_trigger_ns=NOW, attempts=2**32).to_proto(1)
    assert c.count == 5
    assert c.attempts == 0


def test_giving_up_the_due_time_tick_of_a_schedule_records_the_due_time() -> None:
    j = job(schedule="@every 1m", due_time="10s", failure_policy=constant(1, 0))
    st = on_failure(j, CounterState())
    assert st == CounterState(count=1, last_trigger_ns=NOW + 10 * S, attempts=0)
    assert due_at(j, st) == NOW + 70 * S


def test_success_never_moves_backwards_when_the_tick_vanished() -> None:
    # If the job cannot produce its current tick any more (foreign or edited data), success keeps last_trigger.
    j = ParsedJob(
        schedule=None, due_ns=NOW, start_ns=None, expiration_ns=None, repeats=None, policy=FailurePolicy("drop")
    )
    st = CounterState(count=1, last_trigger_ns=NOW)
    assert on_success(j, st) == CounterState(count=2, last_trigger_ns=NOW, attempts=0)
    assert on_failure(j, st) == CounterState(count=2, last_trigger_ns=NOW, attempts=0)


def test_resumed_counter_continues_from_last_trigger() -> None:
    """A counter loaded from etcd after a failover picks up at the tick after last_trigger."""
    j = job(schedule="0 */15 * * * *")
    st = CounterState.from_proto(
        CounterState(count=4, last_trigger_ns=parse_rfc3339("2024-01-01T01:00:00Z")).to_proto(1)
    )
    assert format_rfc3339(due_at(j, st) or 0) == "2024-01-01T01:15:00Z"


def test_schedule_without_start_or_due_is_finished() -> None:
    j = ParsedJob(
        schedule=parse_schedule("@every 1s"),
        due_ns=None,
        start_ns=None,
        expiration_ns=None,
        repeats=None,
        policy=FailurePolicy("drop"),
    )
    assert scheduled_tick(j, CounterState()) is None


def test_zoned_schedule_ticks_from_start() -> None:
    j = parse_stored(
        build_stored_job(
            stored_pb2.UserJob(schedule="CRON_TZ=America/New_York 0 0 1 * * *", repeats=3),
            parse_rfc3339("2024-11-02T12:00:00Z"),
            1,
        )
    )
    # 2024-11-03 is fall-back day: 01:00 happens twice and robfig fires in both.
    assert [w for w, _ in run(j, "ssss")] == [
        t("2024-11-03T01:00:00-04:00"),
        t("2024-11-03T01:00:00-05:00"),
        t("2024-11-04T01:00:00-05:00"),
        "done",
    ]

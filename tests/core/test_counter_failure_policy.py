"""The counter state machine under failure policies: retries, giving up, drop."""

from __future__ import annotations

from daprjobs.core.counter import CounterState, due_at, on_failure, on_success
from daprjobs.core.jobspec import FailurePolicy, ParsedJob
from daprjobs.proto.stored.v1 import stored_pb2

from tests.core.counter_driver import DROP, NOW, S, constant, job, run, t

# --- failure policies -----------------------------------------------------------------------------------------------


def test_default_policy_four_attempts_one_second_apart_then_next_tick() -> None:
    j = job(schedule="@every 10s")
    assert run(j, "ffffs") == [
        (t("2024-01-01T00:00:10Z"), "f"),
        (t("2024-01-01T00:00:11Z"), "f"),
        (t("2024-01-01T00:00:12Z"), "f"),
        (t("2024-01-01T00:00:13Z"), "f"),
        # Given up: the next tick keeps the original cadence.
        (t("2024-01-01T00:00:20Z"), "s"),
    ]


def test_default_policy_state_transitions() -> None:
    j = job(schedule="@every 10s")
    st = CounterState()
    for k in range(1, 4):
        st = on_failure(j, st)
        assert st == CounterState(count=0, last_trigger_ns=None, attempts=k)
    st = on_failure(j, st)
    assert st == CounterState(count=1, last_trigger_ns=NOW + 10 * S, attempts=0)


def test_success_after_retries_resets_attempts() -> None:
    j = job(schedule="@every 10s")
    assert run(j, "ffss") == [
        (t("2024-01-01T00:00:10Z"), "f"),
        (t("2024-01-01T00:00:11Z"), "f"),
        (t("2024-01-01T00:00:12Z"), "s"),
        (t("2024-01-01T00:00:20Z"), "s"),  # from the scheduled 00:10, not from 00:12
    ]


def test_one_shot_that_gives_up_is_finished() -> None:
    j = job(due_time="5s")
    assert run(j, "fffff") == [
        (t("2024-01-01T00:00:05Z"), "f"),
        (t("2024-01-01T00:00:06Z"), "f"),
        (t("2024-01-01T00:00:07Z"), "f"),
        (t("2024-01-01T00:00:08Z"), "f"),
        ("done", "f"),
    ]


def test_drop_moves_on_at_once_and_counts_the_tick() -> None:
    j = job(schedule="@every 10s", repeats=2, failure_policy=DROP)
    assert run(j, "fss") == [
        (t("2024-01-01T00:00:10Z"), "f"),
        (t("2024-01-01T00:00:20Z"), "s"),
        ("done", "s"),
    ]
    st = on_failure(j, CounterState())
    assert st == CounterState(count=1, last_trigger_ns=NOW + 10 * S, attempts=0)


def test_drop_one_shot_finishes() -> None:
    j = job(due_time="5s", failure_policy=DROP)
    assert run(j, "ff") == [(t("2024-01-01T00:00:05Z"), "f"), ("done", "f")]


def test_max_retries_zero_means_no_retry() -> None:
    j = job(schedule="@every 10s", failure_policy=constant(2, 0))
    assert run(j, "fs") == [(t("2024-01-01T00:00:10Z"), "f"), (t("2024-01-01T00:00:20Z"), "s")]


def test_constant_with_custom_interval_and_retries() -> None:
    j = job(schedule="@every 1m", failure_policy=constant(5, 2))
    assert run(j, "ffff") == [
        (t("2024-01-01T00:01:00Z"), "f"),
        (t("2024-01-01T00:01:05Z"), "f"),
        (t("2024-01-01T00:01:10Z"), "f"),
        (t("2024-01-01T00:02:00Z"), "f"),
    ]


def test_unlimited_retries_retry_forever() -> None:
    j = job(due_time="1s", failure_policy=constant(0.5, None))
    st = CounterState()
    for k in range(1, 1001):
        st = on_failure(j, st)
        assert st.count == 0
        assert st.attempts == k
    assert due_at(j, st) == NOW + S + 1000 * 500_000_000
    st = on_success(j, st)
    assert due_at(j, st) is None


def test_retry_times_can_pass_the_next_tick_without_skipping_it() -> None:
    # Retries every 4 s on a 5 s schedule: the retries run late, the next tick keeps its own time.
    j = job(schedule="@every 5s", failure_policy=constant(4, 3))
    assert [w for w, _ in run(j, "fffff")] == [
        t("2024-01-01T00:00:05Z"),
        t("2024-01-01T00:00:09Z"),
        t("2024-01-01T00:00:13Z"),
        t("2024-01-01T00:00:17Z"),
        t("2024-01-01T00:00:10Z"),  # next tick, already due
    ]


def test_retry_beyond_expiration_still_retries_the_tick() -> None:
    # Expiry only gates ticks; go-etcd-cron keeps retrying an admitted tick.
    j = job(schedule="@every 10s", ttl="10s")
    assert [w for w, _ in run(j, "fffff")] == [
        t("2024-01-01T00:00:10Z"),
        t("2024-01-01T00:00:11Z"),
        t("2024-01-01T00:00:12Z"),
        t("2024-01-01T00:00:13Z"),
        "done",
    ]


def test_given_up_ticks_count_toward_repeats() -> None:
    j = job(schedule="@every 10s", repeats=2, failure_policy=constant(1, 1))
    assert [w for w, _ in run(j, "fffff")] == [
        t("2024-01-01T00:00:10Z"),
        t("2024-01-01T00:00:11Z"),
        t("2024-01-01T00:00:20Z"),
        t("2024-01-01T00:00:21Z"),
        "done",
    ]


def test_none_policy_behaves_like_drop() -> None:
    j = ParsedJob(
        schedule=None, due_ns=NOW, start_ns=None, expiration_ns=None, repeats=None, policy=FailurePolicy("none")
    )
    st = on_failure(j, CounterState())
    assert st == CounterState(count=1, last_trigger_ns=NOW, attempts=0)
    assert due_at(j, st) is None


def test_restart_resumes_a_retry_at_its_retry_time() -> None:
    """Attempts are persisted, so after a restart the retry is due at tick + attempts*interval, not at the tick."""
    j = job(schedule="@every 10s", failure_policy=constant(3, 5))
    st = on_failure(j, on_failure(j, CounterState()))
    restored = CounterState.from_proto(stored_pb2.Counter.FromString(st.to_proto(1).SerializeToString()))
    assert restored == st
    assert due_at(j, restored) == NOW + 10 * S + 6 * S

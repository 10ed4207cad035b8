"""Actor timers: planning (pure) and the in-memory runner on a ManualClock (no sleeping)."""

from __future__ import annotations

import asyncio
import json

import pytest
from dapr.proto.runtime.v1 import actors_pb2
from daprjobs.actors.actor_errors import ActorApiError
from daprjobs.actors.timers import (
    ActorTimers,
    TimerSpec,
    fire_body,
    next_tick,
    parse_http_timer,
    plan_timer,
    timer_from_grpc,
)
from daprjobs.core import timeunits
from daprjobs.core.clock import ManualClock

S = timeunits.NS_PER_SECOND
NOW = 1_700_000_000 * S


def spec(**kw: str) -> TimerSpec:
    return TimerSpec(actor_type="T", actor_id="1", name="t", **kw)  # type: ignore[arg-type]


def test_plan_go_and_python_durations() -> None:
    plan = plan_timer(spec(due_time="0h0m2s0ms0μs", period="0h0m1s0ms0μs"), NOW)
    assert plan.first_ns == NOW + 2 * S
    assert plan.interval_ns == S and plan.repeats is None
    assert next_tick(plan, plan.first_ns, 1) == NOW + 3 * S


def test_plan_without_due_time_fires_now_and_one_shot_ends() -> None:
    plan = plan_timer(spec(), NOW)
    assert plan.first_ns == NOW and not plan.periodic
    assert next_tick(plan, NOW, 1) is None


def test_iso_repeats_and_calendar_periods_are_allowed_for_timers() -> None:
    plan = plan_timer(spec(period="R2/PT5S"), NOW)
    assert next_tick(plan, NOW, 1) == NOW + 5 * S
    assert next_tick(plan, NOW + 5 * S, 2) is None
    daily = plan_timer(spec(period="P1D"), NOW)
    assert next_tick(daily, NOW, 1) == NOW + 86_400 * S


def test_ttl_bounds_ticks() -> None:
    plan = plan_timer(spec(period="1s", ttl="2500ms"), NOW)
    assert plan.expires_ns == NOW + 2_500_000_000
    assert next_tick(plan, NOW + S, 2) == NOW + 2 * S
    assert next_tick(plan, NOW + 2 * S, 3) is None


@pytest.mark.parametrize(
    ("kw", "text"),
    [
        ({"period": "R0/PT1S"}, "has zero repetitions"),
        ({"period": "often"}, "invalid timer period"),
        ({"due_time": "later"}, "due time"),
        ({"period": "1s", "ttl": "2000-01-01T00:00:00Z"}, "has already expired"),
    ],
)
def test_bad_timers(kw: dict[str, str], text: str) -> None:
    with pytest.raises(ValueError, match=text):
        plan_timer(spec(**kw), NOW)


def test_fire_body_always_has_callback_and_data() -> None:
    body = json.loads(fire_body(spec(callback="tick", due_time="1s", period="2s")))
    assert body == {"callback": "tick", "data": None, "dueTime": "1s", "period": "2s"}
    with_data = TimerSpec("T", "1", "t", callback="cb", data=b'{ "a" : 1 }')
    assert fire_body(with_data) == b'{"callback":"cb","data":{"a":1},"dueTime":"","period":""}'


def test_http_and_grpc_registration() -> None:
    parsed = parse_http_timer("T", "1", "t", b'{"callback":"cb","data":"aGk=","dueTime":"1s","period":"2s","ttl":null}')
    assert parsed == TimerSpec("T", "1", "t", callback="cb", data=b'"aGk="', due_time="1s", period="2s")
    with pytest.raises(ActorApiError) as info:
        parse_http_timer("T", "1", "t", b'{"dueTime":1}')
    assert info.value.error_code == "ERR_MALFORMED_REQUEST"
    grpc_spec = timer_from_grpc(
        actors_pb2.RegisterActorTimerRequest(actor_type="T", actor_id="1", name="t", callback="cb", data=b"{}")
    )
    assert grpc_spec.data == b'"e30="'


async def settle() -> None:
    for _ in range(30):
        await asyncio.sleep(0)


async def test_runner_fires_on_the_manual_clock_and_stops_after_repeats() -> None:
    clock = ManualClock(NOW)
    fired: list[tuple[str, int]] = []

    async def fire(s: TimerSpec) -> None:
        fired.append((s.name, clock.now_ns()))

    timers = ActorTimers(clock, fire)
    timers.create(spec(due_time="1s", period="R3/PT1S"))
    await settle()
    assert fired == []
    for _ in range(5):
        clock.advance(S)
        await settle()
    assert fired == [("t", NOW + S), ("t", NOW + 2 * S), ("t", NOW + 3 * S)]
    assert timers.active() == []
    await timers.close()


async def test_delete_and_replace() -> None:
    clock = ManualClock(NOW)
    fired: list[str] = []

    async def fire(s: TimerSpec) -> None:
        fired.append(s.callback)

    timers = ActorTimers(clock, fire)
    timers.create(spec(callback="old", period="1s"))
    await settle()
    assert fired == ["old"]
    timers.create(spec(callback="new", due_time="1s", period="1s"))
    clock.advance(S)
    await settle()
    assert fired == ["old", "new"]
    assert timers.delete("T", "1", "t")
    clock.advance(5 * S)
    await settle()
    assert fired == ["old", "new"]
    timers.create(spec(callback="x", due_time="1s", period="1s"))
    assert timers.delete_actor("T", "1") == 1
    clock.advance(S)
    await settle()
    assert fired == ["old", "new"]
    await timers.close()


async def test_a_failing_callback_does_not_stop_the_timer_and_no_overlap() -> None:
    clock = ManualClock(NOW)
    calls = 0
    release = asyncio.Event()

    async def fire(s: TimerSpec) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await release.wait()
            raise RuntimeError("app said 500")

    timers = ActorTimers(clock, fire)
    timers.create(spec(period="1s"))
    await settle()
    clock.advance(3 * S)  # the first callback is still running: no second one starts
    await settle()
    assert calls == 1
    release.set()
    await settle()
    assert calls == 2  # the late tick fires right away, once
    await timers.close()


async def test_deleting_from_inside_the_callback_lets_it_finish() -> None:
    clock = ManualClock(NOW)
    finished: list[bool] = []
    timers: ActorTimers

    async def fire(s: TimerSpec) -> None:
        timers.delete(s.actor_type, s.actor_id, s.name)
        await asyncio.sleep(0)
        finished.append(True)

    timers = ActorTimers(clock, fire)
    timers.create(spec(period="1s"))
    await settle()
    clock.advance(5 * S)
    await settle()
    assert finished == [True]
    await timers.close()

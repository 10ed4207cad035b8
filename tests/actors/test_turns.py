"""Per-actor turns: FIFO, one at a time, reentrancy (pure asyncio, no sleeping)."""

from __future__ import annotations

import asyncio

import pytest
from daprjobs.actors.turns import ActorTurns, StackDepthExceeded


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_calls_for_one_actor_run_one_at_a_time_in_arrival_order() -> None:
    turns = ActorTurns()
    log: list[str] = []
    gates = {n: asyncio.Event() for n in "abc"}

    async def call(name: str) -> None:
        async with turns.turn("T||1"):
            log.append(f"start {name}")
            await gates[name].wait()
            log.append(f"end {name}")

    tasks = [asyncio.create_task(call(n)) for n in "abc"]
    await settle()
    assert log == ["start a"]
    assert turns.pending("T||1") == 3
    gates["c"].set()
    gates["b"].set()
    await settle()
    assert log == ["start a"]
    gates["a"].set()
    await asyncio.gather(*tasks)
    assert log == ["start a", "end a", "start b", "end b", "start c", "end c"]
    assert not turns.is_busy("T||1")


async def test_different_actors_do_not_wait_for_each_other() -> None:
    turns = ActorTurns()
    gate = asyncio.Event()
    entered: list[str] = []

    async def call(key: str) -> None:
        async with turns.turn(key):
            entered.append(key)
            await gate.wait()

    tasks = [asyncio.create_task(call(k)) for k in ("T||1", "T||2")]
    await settle()
    assert sorted(entered) == ["T||1", "T||2"]
    gate.set()
    await asyncio.gather(*tasks)


async def test_reentrant_call_with_the_holders_id_enters_and_others_wait() -> None:
    turns = ActorTurns()
    order: list[str] = []

    async def outer() -> None:
        async with turns.turn("T||1", "chain-1"):
            order.append("outer")
            other = asyncio.create_task(stranger())
            await settle()
            async with turns.turn("T||1", "chain-1"):
                order.append("inner")
            order.append("outer done")
        await other

    async def stranger() -> None:
        async with turns.turn("T||1", "chain-2"):
            order.append("stranger")

    await outer()
    assert order == ["outer", "inner", "outer done", "stranger"]


async def test_stack_depth_is_limited() -> None:
    turns = ActorTurns()
    async with turns.turn("T||1", "c", max_depth=2):
        async with turns.turn("T||1", "c", max_depth=2):
            with pytest.raises(StackDepthExceeded):
                async with turns.turn("T||1", "c", max_depth=2):
                    pass
    assert not turns.is_busy("T||1")


async def test_a_cancelled_waiter_gives_up_its_place() -> None:
    turns = ActorTurns()
    gate = asyncio.Event()
    log: list[str] = []

    async def holder() -> None:
        async with turns.turn("k"):
            await gate.wait()

    async def waiter(name: str) -> None:
        async with turns.turn("k"):
            log.append(name)

    h = asyncio.create_task(holder())
    await settle()
    w1 = asyncio.create_task(waiter("w1"))
    w2 = asyncio.create_task(waiter("w2"))
    await settle()
    w1.cancel()
    await settle()
    gate.set()
    await asyncio.gather(h, w2)
    assert w1.cancelled()
    assert log == ["w2"]
    assert not turns.is_busy("k")

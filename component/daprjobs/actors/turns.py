"""Turn-based concurrency per actor: one call at a time, in arrival order, with Dapr reentrancy.

Every call the sidecar makes into an actor (invocation, reminder, timer, deactivation) takes the actor's turn.
Waiters are served strictly FIFO. With reentrancy enabled for the type, a call carrying the reentrancy id of the
call that holds the turn (the actor calling itself, directly or through another actor) enters at once, up to
``maxStackDepth`` nested entries; beyond that it fails like daprd's ``ERR_ACTOR_STACK_DEPTH``.
No I/O here; pure asyncio.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


class StackDepthExceeded(Exception):
    """A reentrant call would nest deeper than the configured maxStackDepth."""


@dataclass
class _Waiter:
    reentrancy_id: str | None
    granted: asyncio.Future[None]


@dataclass
class _ActorTurn:
    holder: str | None = None  # reentrancy id of the holding call (None: a non-reentrant call holds it)
    depth: int = 0  # 0 = free
    waiters: deque[_Waiter] = field(default_factory=deque)


class ActorTurns:
    """Per-actor-key FIFO turns. Keys are opaque strings (``type||id``)."""

    def __init__(self) -> None:
        self._turns: dict[str, _ActorTurn] = {}

    def is_busy(self, key: str) -> bool:
        turn = self._turns.get(key)
        return turn is not None and (turn.depth > 0 or bool(turn.waiters))

    def pending(self, key: str) -> int:
        """Calls holding or waiting for the turn."""
        turn = self._turns.get(key)
        if turn is None:
            return 0
        return (1 if turn.depth > 0 else 0) + len(turn.waiters)

    @asynccontextmanager
    async def turn(self, key: str, reentrancy_id: str | None = None, max_depth: int = 32) -> AsyncIterator[None]:
        await self._acquire(key, reentrancy_id, max_depth)
        try:
            yield
        finally:
            self._release(key)

    async def _acquire(self, key: str, reentrancy_id: str | None, max_depth: int) -> None:
        turn = self._turns.setdefault(key, _ActorTurn())
        if turn.depth == 0 and not turn.waiters:
            turn.holder, turn.depth = reentrancy_id, 1
            return
        if reentrancy_id is not None and turn.depth > 0 and turn.holder == reentrancy_id:
            if turn.depth >= max_depth:
                self._forget_if_idle(key)
                raise StackDepthExceeded(f"maximum stack depth exceeded ({max_depth})")
            turn.depth += 1
            return
        waiter = _Waiter(reentrancy_id, asyncio.get_running_loop().create_future())
        turn.waiters.append(waiter)
        try:
            await waiter.granted
        except asyncio.CancelledError:
            if waiter.granted.done() and not waiter.granted.cancelled():
                # The turn was handed over just as we were cancelled: pass it on.
                self._release(key)
            else:
                try:
                    turn.waiters.remove(waiter)
                except ValueError:
                    pass
                self._forget_if_idle(key)
            raise

    def _release(self, key: str) -> None:
        turn = self._turns[key]
        turn.depth -= 1
        if turn.depth > 0:
            return
        turn.holder = None
        while turn.waiters:
            waiter = turn.waiters.popleft()
            if waiter.granted.done():
                continue  # cancelled while queued
            turn.holder, turn.depth = waiter.reentrancy_id, 1
            waiter.granted.set_result(None)
            return
        self._forget_if_idle(key)

    def _forget_if_idle(self, key: str) -> None:
        turn = self._turns.get(key)
        if turn is not None and turn.depth == 0 and not turn.waiters:
            del self._turns[key]

"""Time source for the core.

Every instant in daprjobs is an ``int`` of nanoseconds since the Unix epoch, UTC
(protobuf Timestamps and Go's time.Time are nanosecond-exact; floats are not).
The engine never calls ``time`` directly: it takes a ``Clock``, so next-fire
math, retries, TTL and catch-up are tested by moving a ``ManualClock``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from daprjobs.core.timeunits import NS_PER_SECOND

__all__ = ["NS_PER_SECOND", "Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    def now_ns(self) -> int:
        """Current time, ns since the epoch (UTC)."""
        ...

    async def sleep_until(self, deadline_ns: int, wake: asyncio.Event) -> None:
        """Return once ``deadline_ns`` is reached or ``wake`` is set, whichever is first."""
        ...


class SystemClock:
    def now_ns(self) -> int:
        return time.time_ns()

    async def sleep_until(self, deadline_ns: int, wake: asyncio.Event) -> None:
        delay = (deadline_ns - time.time_ns()) / NS_PER_SECOND
        if delay <= 0:
            return
        try:
            await asyncio.wait_for(wake.wait(), timeout=delay)
        except TimeoutError:
            pass


class ManualClock:
    """A clock that moves only when told to; sleepers wake when it passes their deadline."""

    def __init__(self, start_ns: int = 1_700_000_000 * NS_PER_SECOND) -> None:
        self._now = start_ns
        self._moved = asyncio.Event()

    def now_ns(self) -> int:
        return self._now

    def set(self, t_ns: int) -> None:
        self._now = t_ns
        self._moved.set()
        self._moved = asyncio.Event()

    def advance(self, delta_ns: int) -> None:
        self.set(self._now + delta_ns)

    async def sleep_until(self, deadline_ns: int, wake: asyncio.Event) -> None:
        while self._now < deadline_ns and not wake.is_set():
            moved = asyncio.ensure_future(self._moved.wait())
            woken = asyncio.ensure_future(wake.wait())
            try:
                await asyncio.wait({moved, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                moved.cancel()
                woken.cancel()

"""The actors this sidecar runs: turn-taking, activation bookkeeping, timers and idle deactivation.

Everything that reaches the app for one actor id (invocation, reminder, timer, deactivation) goes through
``ActorTurns`` so it runs one at a time in arrival order. An actor counts as active from its first call until
it is deactivated (``DELETE /actors/{t}/{id}``): after ``actorIdleTimeout`` without calls, or when placement
moves it to another host. Idle deactivation keeps the actor's timers (the next tick reactivates it, as daprd
1.18 does); a move drops them, since the actor now lives elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf import any_pb2

from daprjobs.actors.actor_app_channel import REENTRANCY_HEADER, ActorAppChannel, AppResponse, AppUnreachable
from daprjobs.actors.appconfig import ActorAppConfig
from daprjobs.actors.timers import ActorTimers, TimerSpec
from daprjobs.actors.turns import ActorTurns
from daprjobs.core.clock import NS_PER_SECOND, Clock

log = logging.getLogger(__name__)

IDLE_SCAN_INTERVAL_NS = NS_PER_SECOND


def actor_key(actor_type: str, actor_id: str) -> str:
    return f"{actor_type}||{actor_id}"


@dataclass
class _Activation:
    actor_type: str
    actor_id: str
    last_used_ns: int


class NoAppChannel(Exception):
    """No app is connected to host actors (HTTP app not up, or no gRPC actor stream)."""


class LocalActors:
    def __init__(
        self,
        clock: Clock,
        channel: Callable[[], ActorAppChannel | None],
        config: Callable[[], ActorAppConfig],
    ) -> None:
        self._clock = clock
        self._channel = channel
        self._config = config
        self.turns = ActorTurns()
        self.timers = ActorTimers(clock, self._fire_timer)
        self._active: dict[str, _Activation] = {}
        self._idle_task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._idle_task = asyncio.create_task(self._idle_loop(), name="actor idle scan")

    async def stop(self) -> None:
        self._stop.set()
        if self._idle_task is not None:
            self._idle_task.cancel()
            await asyncio.gather(self._idle_task, return_exceptions=True)
        await self.timers.close()

    def active_actors(self) -> list[tuple[str, str]]:
        return [(a.actor_type, a.actor_id) for a in self._active.values()]

    def active_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for activation in self._active.values():
            counts[activation.actor_type] = counts.get(activation.actor_type, 0) + 1
        return counts

    # ------------------------------------------------------------------ calls into the app

    def _app(self) -> ActorAppChannel:
        channel = self._channel()
        if channel is None:
            raise NoAppChannel("no app is connected to host actors")
        return channel

    def _touch(self, actor_type: str, actor_id: str) -> None:
        key = actor_key(actor_type, actor_id)
        activation = self._active.get(key)
        if activation is None:
            self._active[key] = _Activation(actor_type, actor_id, self._clock.now_ns())
        else:
            activation.last_used_ns = self._clock.now_ns()

    async def invoke(
        self, actor_type: str, actor_id: str, method: str, body: bytes, headers: list[tuple[str, str]]
    ) -> AppResponse:
        """One actor method call, in the actor's turn; raises StackDepthExceeded, NoAppChannel, AppUnreachable."""
        reentrancy = self._config().for_type(actor_type).reentrancy
        reentrancy_id: str | None = None
        if reentrancy.enabled:
            reentrancy_id = next((v for k, v in headers if k.lower() == REENTRANCY_HEADER.lower()), None)
            if reentrancy_id is None:
                # daprd starts a reentrancy chain here; the app passes the id on to the calls it makes.
                reentrancy_id = str(uuid.uuid4())
                headers = [*headers, (REENTRANCY_HEADER, reentrancy_id)]
        key = actor_key(actor_type, actor_id)
        async with self.turns.turn(key, reentrancy_id, reentrancy.max_stack_depth):
            self._touch(actor_type, actor_id)
            try:
                return await self._app().invoke(actor_type, actor_id, method, body, headers)
            finally:
                self._touch(actor_type, actor_id)

    async def remind(self, actor_type: str, actor_id: str, name: str, data: any_pb2.Any | None,
                     trigger_id: str | None = None) -> AppResponse:
        async with self.turns.turn(actor_key(actor_type, actor_id)):
            self._touch(actor_type, actor_id)
            try:
                return await self._app().remind(actor_type, actor_id, name, data, trigger_id)
            finally:
                self._touch(actor_type, actor_id)

    async def _fire_timer(self, spec: TimerSpec) -> None:
        async with self.turns.turn(actor_key(spec.actor_type, spec.actor_id)):
            self._touch(spec.actor_type, spec.actor_id)
            try:
                response = await self._app().timer(spec)
            finally:
                self._touch(spec.actor_type, spec.actor_id)
        if response.status != 200:
            raise RuntimeError(f"error from actor service: ({response.status}) {response.body[:200]!r}")

    async def deactivate(
        self, actor_type: str, actor_id: str, *, moved: bool, unused_since_ns: int | None = None
    ) -> bool:
        """Deactivate one active actor in its turn. ``moved``: placement gave it to another host (drop timers).

        ``unused_since_ns``: deactivate only if the actor has not been used since then (the idle scan's check,
        repeated inside the turn because a call may have slipped in meanwhile).
        """
        key = actor_key(actor_type, actor_id)
        if moved:
            self.timers.delete_actor(actor_type, actor_id)
        if key not in self._active:
            return False
        async with self.turns.turn(key):
            activation = self._active.get(key)
            if activation is None:
                return False
            if unused_since_ns is not None and activation.last_used_ns > unused_since_ns:
                return False
            del self._active[key]
            channel = self._channel()
            if channel is None:
                return True
            try:
                response = await channel.deactivate(actor_type, actor_id)
            except AppUnreachable as err:
                log.warning("actor deactivation failed actor_type=%s actor_id=%s error=%s", actor_type, actor_id, err)
                return True
            if response.status != 200:
                log.warning(
                    "actor deactivation refused actor_type=%s actor_id=%s status=%s",
                    actor_type, actor_id, response.status,
                )
            else:
                log.debug("actor deactivated actor_type=%s actor_id=%s moved=%s", actor_type, actor_id, moved)
        return True

    def forget_type(self, actor_type: str) -> None:
        """The app stopped hosting this type (its stream closed): drop bookkeeping without calling it."""
        for key in [k for k, a in self._active.items() if a.actor_type == actor_type]:
            activation = self._active.pop(key)
            self.timers.delete_actor(activation.actor_type, activation.actor_id)

    # ------------------------------------------------------------------ idle scan

    def idle_actors(self, now_ns: int) -> list[tuple[str, str, int]]:
        """(type, id, last used) of every active actor idle for at least its type's ``actorIdleTimeout``."""
        config = self._config()
        idle = []
        for key, activation in self._active.items():
            if self.turns.is_busy(key):
                continue
            timeout = config.for_type(activation.actor_type).idle_timeout_ns
            if now_ns - activation.last_used_ns >= timeout:
                idle.append((activation.actor_type, activation.actor_id, activation.last_used_ns))
        return idle

    async def _idle_loop(self) -> None:
        while not self._stop.is_set():
            await self._clock.sleep_until(self._clock.now_ns() + IDLE_SCAN_INTERVAL_NS, self._stop)
            try:
                for actor_type, actor_id, last_used in self.idle_actors(self._clock.now_ns()):
                    await self.deactivate(actor_type, actor_id, moved=False, unused_since_ns=last_used)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("actor idle scan failed")

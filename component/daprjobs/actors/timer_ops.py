"""Actor timer operations: timers live on the actor's host (``host.LocalActors.timers``), in memory.

A registration is checked here, then created on the host placement gives the actor (here, or forwarded once).
"""

from __future__ import annotations

from daprjobs.actors import actor_errors
from daprjobs.actors.actor_names import validate_name
from daprjobs.actors.forwarding import PeerClient, PeerUnreachable
from daprjobs.actors.host import LocalActors
from daprjobs.actors.hosted_types import HostedActorTypes
from daprjobs.actors.routing import ROUTE_ATTEMPTS, ActorRouter
from daprjobs.actors.timers import TimerSpec, plan_timer
from daprjobs.core.clock import Clock


class ActorTimerOps:
    def __init__(
        self, clock: Clock, hosted: HostedActorTypes, router: ActorRouter, local: LocalActors, peers: PeerClient
    ) -> None:
        self._clock = clock
        self._hosted = hosted
        self._router = router
        self._local = local
        self._peers = peers

    async def register_timer(self, spec: TimerSpec) -> None:
        for value in (spec.actor_id, spec.name):
            validate_name(value)
        try:
            plan_timer(spec, self._clock.now_ns())
        except ValueError as err:
            raise actor_errors.timer_create(str(err)) from None
        for _ in range(ROUTE_ATTEMPTS):
            owner = await self._router.owner(spec.actor_type, spec.actor_id, 0)
            if owner is None:
                raise actor_errors.timer_create(f"actor type {spec.actor_type} is not registered")
            if self._router.is_self(owner):
                self.create_timer_local(spec)
                return
            try:
                await self._peers.create_timer(owner, spec)
                return
            except PeerUnreachable:
                self._router.suspect(spec.actor_type, owner)
        raise actor_errors.timer_create(f"no reachable host for actor {spec.actor_type}/{spec.actor_id}")

    def create_timer_local(self, spec: TimerSpec) -> None:
        if not self._hosted.is_hosted(spec.actor_type):
            raise actor_errors.timer_create(f"actor type {spec.actor_type} is not registered")
        try:
            self._local.timers.create(spec)
        except ValueError as err:
            raise actor_errors.timer_create(str(err)) from None

    async def unregister_timer(self, actor_type: str, actor_id: str, name: str) -> None:
        self.delete_timer_local(actor_type, actor_id, name)
        owner = await self._router.owner(actor_type, actor_id, 0)
        if owner is None or self._router.is_self(owner):
            return
        try:
            await self._peers.delete_timer(owner, actor_type, actor_id, name)
        except PeerUnreachable:
            pass  # its timers died with it

    def delete_timer_local(self, actor_type: str, actor_id: str, name: str) -> None:
        self._local.timers.delete(actor_type, actor_id, name)

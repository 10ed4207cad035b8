"""``ActorRuntime``: the actor subsystem's parts, assembled, started and stopped.

- Hosted types come from the app (``app_registration``) and are registered in placement (etcd) and with the
  scheduler (``set_actor_types``) so reminder triggers for them reach this sidecar (``hosted_types``).
- Calls go to the actor's host (``routing``, ``invocation``, ``forwarding``) and run one at a time per actor
  (``host``); reminders are scheduler jobs (``reminder_ops``, ``reminder_delivery``); timers live on the host
  (``timer_ops``); state is in the actor state store (``state_access``, ``state_store``).
The API adapters (``actor_grpc``, ``actor_http``) see only ``operations``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from daprjobs.actors.actor_app_channel import HttpActorChannel
from daprjobs.actors.app_registration import ActorStreamHosting, register_http_app
from daprjobs.actors.forwarding import PeerClient
from daprjobs.actors.host import LocalActors
from daprjobs.actors.hosted_types import HostedActorTypes
from daprjobs.actors.invocation import ActorInvocation
from daprjobs.actors.operations import ActorOperations
from daprjobs.actors.placement import DEFAULT_LEASE_TTL_S, PlacementRegistry
from daprjobs.actors.reminder_delivery import ReminderDelivery
from daprjobs.actors.reminder_ops import ActorReminderOps
from daprjobs.actors.routing import ActorRouter
from daprjobs.actors.state_access import ActorStateAccess
from daprjobs.actors.timer_ops import ActorTimerOps
from daprjobs.components.state.actor_state import open_actor_state_store
from daprjobs.core.clock import Clock, SystemClock
from daprjobs.etcd.store import EtcdStore
from daprjobs.sidecar.block import SidecarServices

log = logging.getLogger(__name__)

# How often the app's port is probed until it first answers (then its actor config is read).
APP_PROBE_INTERVAL_S = 0.2


class ActorRuntime:
    def __init__(
        self, services: SidecarServices, *, clock: Clock | None = None, placement_lease_ttl_s: int | None = None
    ) -> None:
        self._services = services
        config = services.config
        self.app_id = config.app_id
        self.namespace = config.namespace or "default"
        self._clock = clock or SystemClock()
        self._lease_ttl_s = placement_lease_ttl_s or DEFAULT_LEASE_TTL_S
        self._tasks: set[asyncio.Task[None]] = set()
        self._placement_store: EtcdStore | None = None
        self.config_loaded = asyncio.Event()
        self.state = ActorStateAccess()
        self.hosted = HostedActorTypes(self._apply_types, lambda: self.state.available)
        self.local = LocalActors(self._clock, self.hosted.channel, self.hosted.config)
        self.router = ActorRouter(lambda: services.address.http_address, self.hosted, self.local, self._spawn)
        peers = PeerClient(services.http_session, config.api_token)
        jobs = services.scheduler
        self.operations = ActorOperations(
            invocation=ActorInvocation(self.router, self.hosted, self.local, peers),
            reminders=ActorReminderOps(jobs, self.app_id, self.namespace, self._clock, self.hosted),
            reminder_delivery=ReminderDelivery(
                jobs, self.app_id, self.namespace, self.hosted, self.router, self.local, peers
            ),
            timers=ActorTimerOps(self._clock, self.hosted, self.router, self.local, peers),
            state=self.state,
            streams=ActorStreamHosting(config, self.hosted),
        )

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Connect the state store and placement; load the HTTP app's actor config in the background."""
        config = self._services.config
        endpoints = list(self._services.etcd_endpoints)
        component = config.actor_state_store
        if component is not None:
            self.state.store = open_actor_state_store(component, self.app_id, endpoints)
        else:
            log.warning(
                "no actor state store (a state.etcd or state.redis component with actorStateStore: \"true\"): "
                "this sidecar hosts no actors"
            )
        if endpoints and self.state.available:
            self._placement_store = EtcdStore(endpoints)
            placement = PlacementRegistry(
                self._placement_store,
                self.namespace,
                self.app_id,
                self._services.address.http_address,
                lease_ttl_s=self._lease_ttl_s,
                on_change=self.router.on_placement_change,
            )
            self.router.placement = placement
            await placement.start()
        self.local.start()
        if self.state.available and config.app_port and config.app_protocol == "http":
            self.hosted.http_channel = HttpActorChannel(
                self._services.http_session,
                f"http://{config.app_host or '127.0.0.1'}:{config.app_port}",
                self.app_id,
                config.app_api_token,
            )
            self._spawn(self._load_http_app_config(self.hosted.http_channel), "actor app config")
        else:
            self.config_loaded.set()

    async def stop(self) -> None:
        self.router.stop()
        self.hosted.stop_tracking()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.router.placement is not None:
            await self.router.placement.stop()
        await self.local.stop()
        self.hosted.close_stream()
        closers: list[Callable[[], Awaitable[None]]] = []
        if self._placement_store is not None:
            closers.append(self._placement_store.close)
        if self.state.store is not None:
            closers.append(self.state.store.close)
        for close in closers:
            with contextlib.suppress(Exception):
                await close()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _load_http_app_config(self, channel: HttpActorChannel) -> None:
        try:
            await register_http_app(channel, self._wait_for_app, self.hosted)
        finally:
            self.config_loaded.set()

    async def _wait_for_app(self) -> None:
        """Until the app's port answers. The sidecar's app-health probe is asked now rather than waited for at its
        own interval (up to a second), so actor types register as soon as the app listens."""
        app_health = self._services.app_health
        if app_health is None:
            return
        while True:
            if await app_health.recheck():
                return
            await asyncio.sleep(APP_PROBE_INTERVAL_S)

    async def _apply_types(self, types: list[str], removed: list[str]) -> None:
        for actor_type in removed:
            self.local.forget_type(actor_type)
        if self.router.placement is not None:
            await self.router.placement.set_types(types)
        self._services.scheduler.set_actor_types(list(types))

    # ------------------------------------------------------------------ status

    def hosted_types(self) -> list[str]:
        return self.hosted.types()

    def active_actor_counts(self) -> dict[str, int]:
        """Active actors per hosted type (for the metadata's ``actors``)."""
        counts = self.local.active_counts()
        return {t: counts.get(t, 0) for t in self.hosted.types()}

    def placement_snapshot(self) -> dict[str, list[str]]:
        return self.router.snapshot()

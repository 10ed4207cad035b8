"""The actor types this sidecar hosts, and how it reaches the app's actors right now.

Types come from the app: ``GET /dapr/config`` for an HTTP app, the ``SubscribeActorEventsAlpha1``
registration for a gRPC actor host (whose stream then carries every call, and takes precedence while open).
A change of types is handed to ``apply`` (placement, the scheduler's reminder streams, local bookkeeping).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from daprjobs.actors import actor_errors
from daprjobs.actors.actor_app_channel import ActorAppChannel, HttpActorChannel
from daprjobs.actors.appconfig import ActorAppConfig
from daprjobs.actors.stream_host import StreamActorChannel

log = logging.getLogger(__name__)

# Called with (new types, removed types) once the hosted types change.
ApplyTypes = Callable[[list[str], list[str]], Awaitable[None]]


class HostedActorTypes:
    def __init__(self, apply: ApplyTypes, state_available: Callable[[], bool]) -> None:
        self._apply = apply
        self._state_available = state_available
        self._types: list[str] = []
        self._lock = asyncio.Lock()
        self._closed = False
        self.app_config = ActorAppConfig()
        self.http_channel: HttpActorChannel | None = None
        self.stream_channel: StreamActorChannel | None = None

    def types(self) -> list[str]:
        return list(self._types)

    def is_hosted(self, actor_type: str) -> bool:
        return actor_type in self._types

    def config(self) -> ActorAppConfig:
        return self.app_config

    def channel(self) -> ActorAppChannel | None:
        if self.stream_channel is not None and not self.stream_channel.closed:
            return self.stream_channel
        return self.http_channel

    async def set_types(self, types: list[str]) -> None:
        async with self._lock:
            types = sorted(dict.fromkeys(t for t in types if t))
            if not self._state_available() and types:
                log.error("%s", actor_errors.actor_runtime_not_found().message)
                types = []
            if types == self._types:
                return
            removed = [t for t in self._types if t not in types]
            self._types = types
            await self._apply(list(types), removed)
            log.info("actor types registered types=%s", types)

    async def stream_opened(self, config: ActorAppConfig, channel: StreamActorChannel) -> None:
        """A gRPC actor host registered: its stream replaces any earlier one."""
        previous = self.stream_channel
        self.stream_channel = channel
        self.app_config = config
        if previous is not None:
            previous.close()
        await self.set_types(list(config.entities))

    async def stream_closed(self, channel: StreamActorChannel) -> None:
        """The stream's life is the registration: its types go with it (unless the sidecar is stopping)."""
        if self.stream_channel is not channel:
            return
        self.stream_channel = None
        self.app_config = ActorAppConfig()
        if not self._closed:
            await self.set_types([])

    def stop_tracking(self) -> None:
        """The sidecar is stopping: a stream that closes from now on leaves the registration as it is."""
        self._closed = True

    def close_stream(self) -> None:
        if self.stream_channel is not None:
            self.stream_channel.close()

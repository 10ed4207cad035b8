"""How the app tells this sidecar which actor types it hosts.

- An HTTP app: once its port answers, ``GET /dapr/config`` once (retried while the app cannot be reached);
  anything but a 200 with a valid config means the app hosts no actors (daprd).
- A gRPC actor host: the ``SubscribeActorEventsAlpha1`` stream (``stream_host``), accepted only with a gRPC
  app channel or no app port at all (daprd).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
from dapr.proto.runtime.v1 import actors_pb2

from daprjobs.actors.actor_app_channel import AppResponse, AppUnreachable, HttpActorChannel
from daprjobs.actors.appconfig import AppConfigError, parse_app_config
from daprjobs.actors.hosted_types import HostedActorTypes
from daprjobs.actors.stream_host import serve_actor_stream
from daprjobs.sidecar.block import Context
from daprjobs.sidecar.config import SidecarConfig

log = logging.getLogger(__name__)

CONFIG_ATTEMPTS = 20
CONFIG_RETRY_S = 0.5


async def register_http_app(
    channel: HttpActorChannel, app_ready: Callable[[], Awaitable[None]], hosted: HostedActorTypes
) -> None:
    """Wait for the app (``app_ready``), read its actor config and register its types."""
    await app_ready()
    response: AppResponse | None = None
    for _ in range(CONFIG_ATTEMPTS):
        try:
            response = await channel.get_config()
            break
        except AppUnreachable as err:
            log.info("GET /dapr/config failed, retrying error=%s", err)
            await asyncio.sleep(CONFIG_RETRY_S)
    if response is None or response.status != 200:
        log.info("the app hosts no actors (GET /dapr/config status=%s)", response and response.status)
        return
    try:
        app_config = parse_app_config(response.body)
    except AppConfigError as err:
        log.warning("the app hosts no actors: %s", err)
        return
    hosted.app_config = app_config
    await hosted.set_types(list(app_config.entities))


class ActorStreamHosting:
    """``SubscribeActorEventsAlpha1``: a gRPC app registers its actor types and takes calls on the stream."""

    def __init__(self, config: SidecarConfig, hosted: HostedActorTypes) -> None:
        self._config = config
        self._hosted = hosted

    def allowed(self) -> bool:
        """daprd accepts the actor stream only with a gRPC app channel or no app port at all."""
        return not self._config.app_port or self._config.app_protocol == "grpc"

    async def serve_stream(
        self,
        request_iterator: AsyncIterator[actors_pb2.SubscribeActorEventsRequestAlpha1],
        context: Context,
    ) -> AsyncIterator[actors_pb2.SubscribeActorEventsResponseAlpha1]:
        if not self.allowed():
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, "actor callback streaming requires a gRPC app channel"
            )
            return
        async for message in serve_actor_stream(
            request_iterator, context, self._hosted.stream_opened, self._hosted.stream_closed
        ):
            yield message

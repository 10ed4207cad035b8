"""Actor method invocation: validate, find the actor's host, call it there (here, or forwarded once)."""

from __future__ import annotations

import logging

from daprjobs.actors import actor_errors
from daprjobs.actors.actor_app_channel import ERROR_RESPONSE_HEADER, AppResponse, AppUnreachable
from daprjobs.actors.actor_names import validate_actor
from daprjobs.actors.forwarding import PeerClient, PeerUnreachable, actor_error_from
from daprjobs.actors.host import LocalActors, NoAppChannel
from daprjobs.actors.hosted_types import HostedActorTypes
from daprjobs.actors.methods import normalize_method
from daprjobs.actors.routing import HOST_WAIT_S, ROUTE_ATTEMPTS, ActorRouter
from daprjobs.actors.turns import StackDepthExceeded

log = logging.getLogger(__name__)


class ActorInvocation:
    def __init__(self, router: ActorRouter, hosted: HostedActorTypes, local: LocalActors, peers: PeerClient) -> None:
        self._router = router
        self._hosted = hosted
        self._local = local
        self._peers = peers

    async def invoke(
        self, actor_type: str, actor_id: str, method: str, body: bytes, headers: list[tuple[str, str]]
    ) -> AppResponse:
        """Call an actor method wherever the actor lives. Returns the app's 200 response (or an actor error the
        app marked with ``X-DaprErrorResponseHeader``); raises ActorApiError otherwise."""
        validate_actor(actor_type, actor_id)
        try:
            method = normalize_method(method)
        except ValueError as err:
            raise actor_errors.bad_request(str(err)) from None
        for _ in range(ROUTE_ATTEMPTS):
            owner = await self._router.owner(actor_type, actor_id, HOST_WAIT_S)
            if owner is None:
                raise actor_errors.invoke_failed(f"did not find address for actor {actor_type}/{actor_id}")
            if self._router.is_self(owner):
                response = await self.invoke_local(actor_type, actor_id, method, body, headers)
            else:
                try:
                    response = await self._peers.invoke(owner, actor_type, actor_id, method, body, headers)
                except PeerUnreachable as err:
                    log.warning("actor host unreachable, rerouting actor_type=%s actor_id=%s error=%s",
                                actor_type, actor_id, err)
                    self._router.suspect(actor_type, owner)
                    continue
                forwarded_error = actor_error_from(response)
                if forwarded_error is not None:
                    raise forwarded_error
            return _invoke_result(method, response)
        raise actor_errors.invoke_failed(f"no reachable host for actor {actor_type}/{actor_id}")

    async def invoke_local(
        self, actor_type: str, actor_id: str, method: str, body: bytes, headers: list[tuple[str, str]]
    ) -> AppResponse:
        """Run the call on this sidecar's app, whatever placement says (forwarded calls land here)."""
        if not self._hosted.is_hosted(actor_type):
            raise actor_errors.invoke_failed(f"actor type {actor_type} is not hosted by this app")
        try:
            return await self._local.invoke(actor_type, actor_id, method, body, headers)
        except StackDepthExceeded:
            raise actor_errors.stack_depth_exceeded() from None
        except (NoAppChannel, AppUnreachable) as err:
            raise actor_errors.invoke_failed(str(err)) from None


def _invoke_result(method: str, response: AppResponse) -> AppResponse:
    if response.header(ERROR_RESPONSE_HEADER) is not None:
        return response
    if response.status == 404:
        raise actor_errors.invoke_failed(f"actor method not found: {method}")
    if response.status != 200:
        body = response.body.decode("utf-8", "replace")
        raise actor_errors.invoke_failed(f"error from actor service: ({response.status}) {body}")
    return response

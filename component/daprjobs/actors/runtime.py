"""``ActorRuntime``: the sidecar's actor subsystem (issue 4), behind the contract in ``briefs/contracts.md``.

- Hosted types come from the app: ``GET /dapr/config`` for an HTTP app (once its port answers), or the
  ``SubscribeActorEventsAlpha1`` registration for a gRPC actor host. They are registered in placement (etcd)
  and with the scheduler (``set_actor_types``) so reminder triggers for them reach this sidecar.
- Reminders are scheduler jobs (``reminders``); timers live here (``timers``); state is in etcd
  (``statestore``); placement decides which sidecar runs an actor id and calls for other hosts are forwarded
  (``placement``, ``forwarding``); calls into the app are serialized per actor (``host``).
The HTTP routes (``http_api``) and gRPC methods (``grpc_api``) are thin adapters over the operations here,
which raise ``ActorApiError`` for every documented failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

import aiohttp
import grpc
from aiohttp import web
from dapr.proto.runtime.v1 import actors_pb2

from daprjobs.actors import errors, grpc_api, http_api, reminders
from daprjobs.actors.appchannel import (
    ERROR_RESPONSE_HEADER,
    ActorAppChannel,
    AppResponse,
    AppUnreachable,
    HttpAppChannel,
    is_reminder_cancel,
)
from daprjobs.actors.appconfig import ActorAppConfig, AppConfigError, parse_app_config
from daprjobs.actors.forwarding import PeerClient, PeerUnreachable, ReminderOutcome, actor_error_from
from daprjobs.actors.host import LocalActors, NoAppChannel
from daprjobs.actors.methods import normalize_method
from daprjobs.actors.placement import DEFAULT_LEASE_TTL_S, PlacementRegistry
from daprjobs.actors.reminders import ReminderSpec, ReminderView
from daprjobs.actors.stateops import StateOperation
from daprjobs.actors.statestore import EtcdActorStateStore, EtcdStateStoreConfig
from daprjobs.actors.stream_host import StreamAppChannel, serve_actor_stream
from daprjobs.actors.timers import TimerSpec, plan_timer
from daprjobs.actors.turns import StackDepthExceeded
from daprjobs.core import names
from daprjobs.core.clock import Clock, SystemClock
from daprjobs.etcd.store import EtcdStore
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.sidecar.apphealth import tcp_probe

log = logging.getLogger(__name__)

# How long an invocation waits for some host of its actor type to appear (start-up races).
HOST_WAIT_S = 10.0
# How long a call waits for the placement table's first read from etcd.
PLACEMENT_SYNC_WAIT_S = 5.0
# How many hosts a forwarded call tries before giving up (each refusal suspects that host).
ROUTE_ATTEMPTS = 3


class SchedulerApi(Protocol):
    async def schedule_job(
        self, name: str, job: scheduler_pb2.Job, metadata: scheduler_pb2.JobMetadata, overwrite: bool
    ) -> scheduler_pb2.ScheduleJobResponse: ...

    async def get_job(self, name: str, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.GetJobResponse: ...

    async def delete_job(
        self, name: str, metadata: scheduler_pb2.JobMetadata
    ) -> scheduler_pb2.DeleteJobResponse: ...

    async def list_jobs(self, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.ListJobsResponse: ...

    async def delete_by_metadata(
        self, metadata: scheduler_pb2.JobMetadata, id_prefix_match: bool | None = None
    ) -> scheduler_pb2.DeleteByMetadataResponse: ...

    def set_actor_types(self, types: list[str]) -> None: ...


class RuntimeContext(Protocol):
    """What the runtime reads from the sidecar's ``SidecarContext`` (``config`` is its ``SidecarConfig``)."""

    config: Any
    scheduler: SchedulerApi
    http_session: aiohttp.ClientSession
    etcd_endpoints: list[str]
    host_address: str


def _rpc_text(err: grpc.aio.AioRpcError) -> str:
    return f"rpc error: code = {err.code().name.title().replace('_', '')} desc = {err.details()}"


class ActorRuntime:
    def __init__(
        self,
        ctx: RuntimeContext,
        *,
        clock: Clock | None = None,
        placement_lease_ttl_s: int | None = None,
    ) -> None:
        self._ctx = ctx
        config = ctx.config
        self.app_id: str = config.app_id
        self.namespace: str = getattr(config, "namespace", "default") or "default"
        self._clock = clock or SystemClock()
        self._lease_ttl_s = placement_lease_ttl_s or int(
            getattr(config, "actor_placement_lease_ttl_s", 0) or DEFAULT_LEASE_TTL_S
        )
        self._app_config = ActorAppConfig()
        self._types: list[str] = []
        self._http_channel: HttpAppChannel | None = None
        self._stream_channel: StreamAppChannel | None = None
        self._local = LocalActors(self._clock, self._channel, lambda: self._app_config)
        self._peers = PeerClient(ctx.http_session, getattr(config, "api_token", None))
        self._placement_store: EtcdStore | None = None
        self._state_store_client: EtcdStore | None = None
        self._state: EtcdActorStateStore | None = None
        self._placement: PlacementRegistry | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._types_lock = asyncio.Lock()
        self._rebalance_pending = False
        self._stopping = False
        self.config_loaded = asyncio.Event()

    # ================================================================== lifecycle

    async def start(self) -> None:
        """Connect the state store and placement; load the HTTP app's actor config in the background."""
        config = self._ctx.config
        endpoints = list(getattr(self._ctx, "etcd_endpoints", None) or [])
        component = getattr(config, "actor_state_store", None)
        if component is not None:
            store_config = EtcdStateStoreConfig.from_component(component.name, dict(component.metadata), endpoints)
            if store_config.endpoints:
                self._state_store_client = EtcdStore(list(store_config.endpoints))
                self._state = EtcdActorStateStore(self._state_store_client, self.app_id, store_config.key_prefix)
                endpoints = endpoints or list(store_config.endpoints)
            else:
                log.error("actor state store %s has no etcd endpoints: actors are disabled", component.name)
        else:
            log.warning(
                "no actor state store (a state.etcd component with actorStateStore: \"true\"): "
                "this sidecar hosts no actors"
            )
        if endpoints and self._state is not None:
            self._placement_store = EtcdStore(endpoints)
            self._placement = PlacementRegistry(
                self._placement_store,
                self.namespace,
                self.app_id,
                self._ctx.host_address,
                lease_ttl_s=self._lease_ttl_s,
                on_change=self._on_placement_change,
            )
            await self._placement.start()
        self._local.start()
        app_port = getattr(config, "app_port", None)
        if self._state is not None and app_port and getattr(config, "app_protocol", "http") == "http":
            base = f"http://{getattr(config, 'app_host', '127.0.0.1') or '127.0.0.1'}:{app_port}"
            self._http_channel = HttpAppChannel(
                self._ctx.http_session, base, self.app_id, getattr(config, "app_api_token", None)
            )
            self._spawn(self._load_http_app_config(), "actor app config")
        else:
            self.config_loaded.set()

    async def stop(self) -> None:
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._placement is not None:
            await self._placement.stop()
        await self._local.stop()
        if self._stream_channel is not None:
            self._stream_channel.close()
        for store in (self._placement_store, self._state_store_client):
            if store is not None:
                with contextlib.suppress(Exception):
                    await store.close()

    def _spawn(self, coro: Any, name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def hosted_types(self) -> list[str]:
        return list(self._types)

    def active_actor_counts(self) -> dict[str, int]:
        """Active actors per hosted type (for /v1.0/metadata's ``actors``)."""
        counts = self._local.active_counts()
        return {t: counts.get(t, 0) for t in self._types}

    def placement_snapshot(self) -> dict[str, list[str]]:
        return self._placement.snapshot() if self._placement is not None else {}

    def _channel(self) -> ActorAppChannel | None:
        if self._stream_channel is not None and not self._stream_channel.closed:
            return self._stream_channel
        return self._http_channel

    async def _set_types(self, types: list[str]) -> None:
        async with self._types_lock:
            types = sorted(dict.fromkeys(t for t in types if t))
            if self._state is None and types:
                log.error("%s", errors.actor_runtime_not_found().message)
                types = []
            if types == self._types:
                return
            removed = [t for t in self._types if t not in types]
            self._types = types
            for actor_type in removed:
                self._local.forget_type(actor_type)
            if self._placement is not None:
                await self._placement.set_types(types)
            set_types = getattr(self._ctx.scheduler, "set_actor_types", None)
            if set_types is not None:
                set_types(list(types))
            log.info("actor types registered types=%s", types)

    async def _load_http_app_config(self) -> None:
        """daprd: wait for the app port, then ``GET /dapr/config`` once; anything but 200 means no actors."""
        assert self._http_channel is not None
        config = self._ctx.config
        host = getattr(config, "app_host", "127.0.0.1") or "127.0.0.1"
        try:
            while True:
                if await tcp_probe(host, int(config.app_port), timeout_s=1.0):
                    break
                await asyncio.sleep(0.2)
            response: AppResponse | None = None
            for _ in range(20):
                try:
                    response = await self._http_channel.get_config()
                    break
                except AppUnreachable as err:
                    log.info("GET /dapr/config failed, retrying error=%s", err)
                    await asyncio.sleep(0.5)
            if response is None or response.status != 200:
                log.info("the app hosts no actors (GET /dapr/config status=%s)", response and response.status)
                return
            try:
                app_config = parse_app_config(response.body)
            except AppConfigError as err:
                log.warning("the app hosts no actors: %s", err)
                return
            self._app_config = app_config
            await self._set_types(list(app_config.entities))
        finally:
            self.config_loaded.set()

    # ================================================================== placement

    def _on_placement_change(self) -> None:
        if self._rebalance_pending or self._stopping:
            return
        self._rebalance_pending = True
        self._spawn(self._rebalance(), "actor rebalance")

    async def _rebalance(self) -> None:
        """Deactivate local actors (and drop timers of actors) that placement now gives to another host."""
        await asyncio.sleep(0)
        self._rebalance_pending = False
        placement = self._placement
        if placement is None:
            return
        candidates = set(self._local.active_actors())
        candidates.update((s.actor_type, s.actor_id) for s in self._local.timers.active())
        moved = []
        for actor_type, actor_id in candidates:
            owner = placement.owner(actor_type, actor_id)
            if owner is not None and owner != placement.address:
                moved.append((actor_type, actor_id))
        # Concurrently: each deactivation waits for its actor's turn, and one busy actor must not hold up the rest.
        results = await asyncio.gather(
            *(self._local.deactivate(t, i, moved=True) for t, i in moved), return_exceptions=True
        )
        for (actor_type, actor_id), result in zip(moved, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("deactivating a moved actor failed actor_type=%s actor_id=%s error=%r",
                            actor_type, actor_id, result)
        if moved:
            log.info("actors moved to other hosts were deactivated count=%d", len(moved))

    async def _owner(self, actor_type: str, actor_id: str, wait_s: float) -> str | None:
        """The address of the actor's host (None: no host). Without placement, this sidecar or nobody."""
        placement = self._placement
        if placement is None:
            return self._ctx.host_address if actor_type in self._types else None
        if not placement.synced:
            # Until the table is read, this host would wrongly see itself as the only one.
            await placement.wait_synced(max(wait_s, PLACEMENT_SYNC_WAIT_S))
        if wait_s > 0 and not placement.hosts(actor_type):
            await placement.wait_for_host(actor_type, wait_s)
        return placement.owner(actor_type, actor_id)

    def _is_self(self, address: str) -> bool:
        return address == (self._placement.address if self._placement is not None else self._ctx.host_address)

    def _suspect(self, actor_type: str, address: str) -> None:
        if self._placement is not None:
            self._placement.suspect(actor_type, address)

    # ================================================================== invocation

    @staticmethod
    def _validate_actor(actor_type: str, actor_id: str) -> None:
        for label, value in (("actorType", actor_type), ("actorId", actor_id)):
            try:
                names.validate_actor_name(value)
            except ValueError as err:
                raise errors.bad_request(f"invalid {label}: {err}") from None
            if not value:
                raise errors.bad_request(f"invalid {label}: it must not be empty")

    async def invoke(
        self, actor_type: str, actor_id: str, method: str, body: bytes, headers: list[tuple[str, str]]
    ) -> AppResponse:
        """Call an actor method wherever the actor lives. Returns the app's 200 response (or an actor error the
        app marked with ``X-DaprErrorResponseHeader``); raises ActorApiError otherwise."""
        self._validate_actor(actor_type, actor_id)
        try:
            method = normalize_method(method)
        except ValueError as err:
            raise errors.bad_request(str(err)) from None
        for _ in range(ROUTE_ATTEMPTS):
            owner = await self._owner(actor_type, actor_id, HOST_WAIT_S)
            if owner is None:
                raise errors.invoke_failed(f"did not find address for actor {actor_type}/{actor_id}")
            if self._is_self(owner):
                response = await self.invoke_local(actor_type, actor_id, method, body, headers)
            else:
                try:
                    response = await self._peers.invoke(owner, actor_type, actor_id, method, body, headers)
                except PeerUnreachable as err:
                    log.warning("actor host unreachable, rerouting actor_type=%s actor_id=%s error=%s",
                                actor_type, actor_id, err)
                    self._suspect(actor_type, owner)
                    continue
                forwarded_error = actor_error_from(response)
                if forwarded_error is not None:
                    raise forwarded_error
            return self._invoke_result(method, response)
        raise errors.invoke_failed(f"no reachable host for actor {actor_type}/{actor_id}")

    async def invoke_local(
        self, actor_type: str, actor_id: str, method: str, body: bytes, headers: list[tuple[str, str]]
    ) -> AppResponse:
        """Run the call on this sidecar's app, whatever placement says (forwarded calls land here)."""
        if actor_type not in self._types:
            raise errors.invoke_failed(f"actor type {actor_type} is not hosted by this app")
        try:
            return await self._local.invoke(actor_type, actor_id, method, body, headers)
        except StackDepthExceeded:
            raise errors.stack_depth_exceeded() from None
        except (NoAppChannel, AppUnreachable) as err:
            raise errors.invoke_failed(str(err)) from None

    @staticmethod
    def _invoke_result(method: str, response: AppResponse) -> AppResponse:
        if response.header(ERROR_RESPONSE_HEADER) is not None:
            return response
        if response.status == 404:
            raise errors.invoke_failed(f"actor method not found: {method}")
        if response.status != 200:
            body = response.body.decode("utf-8", "replace")
            raise errors.invoke_failed(f"error from actor service: ({response.status}) {body}")
        return response

    # ================================================================== reminders

    def _require_hosted_reminder_type(self, actor_type: str) -> None:
        if actor_type not in self._types:
            raise errors.non_hosted_reminder()

    def _metadata(self, actor_type: str, actor_id: str = "") -> scheduler_pb2.JobMetadata:
        return reminders.job_metadata(self.app_id, self.namespace, actor_type, actor_id)

    @staticmethod
    def _validate_reminder_name(name: str) -> None:
        try:
            names.validate_actor_name(name)
        except ValueError as err:
            raise errors.bad_request(str(err)) from None

    async def register_reminder(self, spec: ReminderSpec, *, validate_actor_id: bool = False) -> None:
        """daprd's order: name checks (400), hosted type (403), times (500), then the scheduler (409 / 500)."""
        if not spec.name:
            raise errors.bad_request("reminder name cannot be empty")
        if validate_actor_id:
            self._validate_reminder_name(spec.actor_id)
        self._validate_reminder_name(spec.name)
        self._require_hosted_reminder_type(spec.actor_type)
        request = reminders.schedule_request(spec, self.app_id, self.namespace, self._clock.now_ns())
        try:
            await self._ctx.scheduler.schedule_job(request.name, request.job, request.metadata, request.overwrite)
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.ALREADY_EXISTS:
                raise errors.reminder_exists(spec.name) from None
            raise errors.reminder_create(_rpc_text(err)) from None
        log.debug("actor reminder registered actor_type=%s actor_id=%s reminder=%s",
                  spec.actor_type, spec.actor_id, spec.name)

    async def unregister_reminder(self, actor_type: str, actor_id: str, name: str) -> None:
        self._require_hosted_reminder_type(actor_type)
        try:
            await self._ctx.scheduler.delete_job(name, self._metadata(actor_type, actor_id))
        except grpc.aio.AioRpcError as err:
            raise errors.reminder_delete(_rpc_text(err)) from None

    async def get_reminder(self, actor_type: str, actor_id: str, name: str) -> ReminderView:
        self._require_hosted_reminder_type(actor_type)
        try:
            response = await self._ctx.scheduler.get_job(name, self._metadata(actor_type, actor_id))
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                raise errors.reminder_not_found(name) from None
            raise errors.reminder_get(_rpc_text(err)) from None
        return reminders.view_from_job(actor_type, actor_id, name, response.job)

    async def list_reminders(self, actor_type: str, actor_id: str | None) -> list[ReminderView]:
        self._require_hosted_reminder_type(actor_type)
        try:
            response = await self._ctx.scheduler.list_jobs(self._metadata(actor_type))
        except grpc.aio.AioRpcError as err:
            raise errors.reminder_get(_rpc_text(err)) from None
        views = []
        for named in response.jobs:
            if named.metadata.target.WhichOneof("type") != "actor":
                continue
            actor = named.metadata.target.actor
            if actor_id is not None and actor.id != actor_id:
                continue
            views.append(reminders.view_from_job(actor.type, actor.id, named.name, named.job))
        return views

    async def unregister_reminders_by_type(self, actor_type: str, actor_id: str | None) -> None:
        self._require_hosted_reminder_type(actor_type)
        try:
            await self._ctx.scheduler.delete_by_metadata(
                self._metadata(actor_type, actor_id or ""), id_prefix_match=actor_id is None
            )
        except grpc.aio.AioRpcError as err:
            raise errors.reminder_delete(_rpc_text(err)) from None

    async def deliver_reminder(self, trigger: scheduler_pb2.WatchJobsResponse) -> bool:
        """A reminder trigger from the scheduler: deliver it to the actor's host. True = ack SUCCESS."""
        target = trigger.metadata.target
        if target.WhichOneof("type") != "actor" or not target.actor.type or not target.actor.id:
            log.warning("reminder trigger without an actor target job=%s", trigger.name)
            return False
        actor_type, actor_id = target.actor.type, target.actor.id
        data = trigger.data if trigger.HasField("data") else None
        outcome = await self._deliver_reminder(actor_type, actor_id, trigger.name, data)
        if outcome is ReminderOutcome.CANCEL:
            # The app ended the reminder (X-DaprReminderCancel: true): delete the job.
            try:
                await self._ctx.scheduler.delete_job(trigger.name, self._metadata(actor_type, actor_id))
                log.info("actor reminder cancelled by the app actor_type=%s actor_id=%s reminder=%s",
                         actor_type, actor_id, trigger.name)
            except grpc.aio.AioRpcError as err:
                log.warning("deleting a cancelled reminder failed reminder=%s error=%s", trigger.name, err.details())
        return outcome is not ReminderOutcome.FAILED

    async def _deliver_reminder(
        self, actor_type: str, actor_id: str, name: str, data: Any
    ) -> ReminderOutcome:
        for _ in range(ROUTE_ATTEMPTS):
            owner = await self._owner(actor_type, actor_id, 0)
            if owner is None:
                log.warning("no host for reminder actor_type=%s actor_id=%s reminder=%s", actor_type, actor_id, name)
                return ReminderOutcome.FAILED
            if self._is_self(owner):
                return await self.remind_local(actor_type, actor_id, name, data)
            try:
                return await self._peers.remind(owner, actor_type, actor_id, name, data)
            except PeerUnreachable as err:
                log.warning("actor host unreachable, rerouting reminder=%s error=%s", name, err)
                self._suspect(actor_type, owner)
        return ReminderOutcome.FAILED

    async def remind_local(self, actor_type: str, actor_id: str, name: str, data: Any) -> ReminderOutcome:
        if actor_type not in self._types:
            log.warning("reminder for a type this app does not host actor_type=%s reminder=%s", actor_type, name)
            return ReminderOutcome.FAILED
        try:
            response = await self._local.remind(actor_type, actor_id, name, data)
        except (NoAppChannel, AppUnreachable) as err:
            log.warning("reminder delivery failed actor_type=%s actor_id=%s reminder=%s error=%s",
                        actor_type, actor_id, name, err)
            return ReminderOutcome.FAILED
        if response.status != 200:
            log.warning("reminder refused by the app actor_type=%s actor_id=%s reminder=%s status=%s",
                        actor_type, actor_id, name, response.status)
            return ReminderOutcome.FAILED
        return ReminderOutcome.CANCEL if is_reminder_cancel(response) else ReminderOutcome.OK

    # ================================================================== timers

    async def register_timer(self, spec: TimerSpec) -> None:
        for value in (spec.actor_id, spec.name):
            self._validate_reminder_name(value)
        try:
            plan_timer(spec, self._clock.now_ns())
        except ValueError as err:
            raise errors.timer_create(str(err)) from None
        for _ in range(ROUTE_ATTEMPTS):
            owner = await self._owner(spec.actor_type, spec.actor_id, 0)
            if owner is None:
                raise errors.timer_create(f"actor type {spec.actor_type} is not registered")
            if self._is_self(owner):
                self.create_timer_local(spec)
                return
            try:
                await self._peers.create_timer(owner, spec)
                return
            except PeerUnreachable:
                self._suspect(spec.actor_type, owner)
        raise errors.timer_create(f"no reachable host for actor {spec.actor_type}/{spec.actor_id}")

    def create_timer_local(self, spec: TimerSpec) -> None:
        if spec.actor_type not in self._types:
            raise errors.timer_create(f"actor type {spec.actor_type} is not registered")
        try:
            self._local.timers.create(spec)
        except ValueError as err:
            raise errors.timer_create(str(err)) from None

    async def unregister_timer(self, actor_type: str, actor_id: str, name: str) -> None:
        self.delete_timer_local(actor_type, actor_id, name)
        owner = await self._owner(actor_type, actor_id, 0)
        if owner is None or self._is_self(owner):
            return
        try:
            await self._peers.delete_timer(owner, actor_type, actor_id, name)
        except PeerUnreachable:
            pass  # its timers died with it

    def delete_timer_local(self, actor_type: str, actor_id: str, name: str) -> None:
        self._local.timers.delete(actor_type, actor_id, name)

    # ================================================================== state

    def _require_state(self) -> EtcdActorStateStore:
        if self._state is None:
            raise errors.actor_runtime_not_found()
        return self._state

    async def get_state(self, actor_type: str, actor_id: str, key: str) -> bytes | None:
        store = self._require_state()
        try:
            return await store.get(actor_type, actor_id, key)
        except Exception as err:
            raise errors.state_get(f"fail to get {key} from state store: {err}") from None

    async def transact_state(self, actor_type: str, actor_id: str, ops: list[StateOperation]) -> None:
        store = self._require_state()
        try:
            await store.transact(actor_type, actor_id, ops)
        except Exception as err:
            raise errors.state_transaction(str(err)) from None

    # ================================================================== gRPC actor host stream

    async def _stream_opened(self, config: ActorAppConfig, channel: StreamAppChannel) -> None:
        previous = self._stream_channel
        self._stream_channel = channel
        self._app_config = config
        if previous is not None:
            previous.close()
        await self._set_types(list(config.entities))

    async def _stream_closed(self, channel: StreamAppChannel) -> None:
        if self._stream_channel is not channel:
            return
        self._stream_channel = None
        self._app_config = ActorAppConfig()
        if not self._stopping:
            await self._set_types([])

    def stream_allowed(self) -> bool:
        """daprd accepts the actor stream only with a gRPC app channel or no app port at all."""
        config = self._ctx.config
        return not getattr(config, "app_port", None) or getattr(config, "app_protocol", "http") == "grpc"

    async def serve_stream(
        self,
        request_iterator: AsyncIterator[actors_pb2.SubscribeActorEventsRequestAlpha1],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[actors_pb2.SubscribeActorEventsResponseAlpha1]:
        if not self.stream_allowed():
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, "actor callback streaming requires a gRPC app channel"
            )
            return
        async for message in serve_actor_stream(
            request_iterator, context, self._stream_opened, self._stream_closed
        ):
            yield message

    # ================================================================== transports

    def add_http_routes(self, app: web.Application) -> None:
        http_api.add_routes(app, self)

    async def RegisterActorReminder(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await grpc_api.register_actor_reminder(self, request, context)

    async def UnregisterActorReminder(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await grpc_api.unregister_actor_reminder(self, request, context)

    async def GetActorReminder(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await grpc_api.get_actor_reminder(self, request, context)

    async def ListActorReminders(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await grpc_api.list_actor_reminders(self, request, context)

    async def UnregisterActorRemindersByType(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await grpc_api.unregister_actor_reminders_by_type(self, request, context)

    async def RegisterActorTimer(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await grpc_api.register_actor_timer(self, request, context)

    async def UnregisterActorTimer(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await grpc_api.unregister_actor_timer(self, request, context)

    async def InvokeActor(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await grpc_api.invoke_actor(self, request, context)

    async def GetActorState(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await grpc_api.get_actor_state(self, request, context)

    async def ExecuteActorStateTransaction(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await grpc_api.execute_actor_state_transaction(self, request, context)

    async def SubscribeActorEventsAlpha1(
        self, request_iterator: Any, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[actors_pb2.SubscribeActorEventsResponseAlpha1]:
        async for message in self.serve_stream(request_iterator, context):
            yield message

"""The actor RPCs of ``dapr.proto.runtime.v1.Dapr`` (wire-compat §D.5, §F rows 31-34) over the operations.

Thin adapters: each turns its request into an actor operation and an ``ActorApiError`` into a gRPC status.
``GetActorTimer`` and ``ListActorTimers`` answer UNIMPLEMENTED: timers can be registered and removed, not read.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Mapping
from typing import NoReturn, TypeVar

import grpc
from dapr.proto.runtime.v1 import actors_pb2
from google.protobuf import empty_pb2

from daprjobs.actors import reminders, stateops
from daprjobs.actors.actor_errors import ActorApiError
from daprjobs.actors.operations import ActorOperations
from daprjobs.actors.timers import timer_from_grpc
from daprjobs.sidecar.block import SERVICE_NAME, Context, dapr_stream_stream, dapr_unary

log = logging.getLogger(__name__)
T = TypeVar("T")

TIMER_READ_UNSUPPORTED = "is not implemented by daprjobs (actor timers can be registered and unregistered, not read)"


async def _abort(context: Context, err: ActorApiError) -> NoReturn:
    log.debug("actor gRPC error code=%s error=%r", err.grpc_code.name, err)
    await context.abort(err.grpc_code, err.message)
    raise AssertionError("unreachable")  # context.abort raises


async def _run(context: Context, operation: Awaitable[T]) -> T:
    try:
        return await operation
    except ActorApiError as err:
        await _abort(context, err)


class ActorGrpcMethods:
    def __init__(self, ops: ActorOperations) -> None:
        self._ops = ops

    def handlers(self) -> Mapping[str, grpc.RpcMethodHandler]:
        return {
            "RegisterActorReminder": dapr_unary("RegisterActorReminder", self.register_actor_reminder),
            "UnregisterActorReminder": dapr_unary("UnregisterActorReminder", self.unregister_actor_reminder),
            "GetActorReminder": dapr_unary("GetActorReminder", self.get_actor_reminder),
            "ListActorReminders": dapr_unary("ListActorReminders", self.list_actor_reminders),
            "UnregisterActorRemindersByType": dapr_unary(
                "UnregisterActorRemindersByType", self.unregister_actor_reminders_by_type
            ),
            "RegisterActorTimer": dapr_unary("RegisterActorTimer", self.register_actor_timer),
            "UnregisterActorTimer": dapr_unary("UnregisterActorTimer", self.unregister_actor_timer),
            "GetActorTimer": dapr_unary("GetActorTimer", self.get_actor_timer),
            "ListActorTimers": dapr_unary("ListActorTimers", self.list_actor_timers),
            "InvokeActor": dapr_unary("InvokeActor", self.invoke_actor),
            "GetActorState": dapr_unary("GetActorState", self.get_actor_state),
            "ExecuteActorStateTransaction": dapr_unary(
                "ExecuteActorStateTransaction", self.execute_actor_state_transaction
            ),
            "SubscribeActorEventsAlpha1": dapr_stream_stream(
                "SubscribeActorEventsAlpha1", self.subscribe_actor_events
            ),
        }

    # ------------------------------------------------------------------ reminders

    async def register_actor_reminder(
        self, request: actors_pb2.RegisterActorReminderRequest, context: Context
    ) -> empty_pb2.Empty:
        spec = reminders.reminder_from_grpc(request)
        await _run(context, self._ops.reminders.register_reminder(spec, validate_actor_id=True))
        return empty_pb2.Empty()

    async def unregister_actor_reminder(
        self, request: actors_pb2.UnregisterActorReminderRequest, context: Context
    ) -> empty_pb2.Empty:
        await _run(context, self._ops.reminders.unregister_reminder(request.actor_type, request.actor_id, request.name))
        return empty_pb2.Empty()

    async def get_actor_reminder(
        self, request: actors_pb2.GetActorReminderRequest, context: Context
    ) -> actors_pb2.GetActorReminderResponse:
        view = await _run(context, self._ops.reminders.get_reminder(request.actor_type, request.actor_id, request.name))
        return reminders.grpc_get_response(view)

    async def list_actor_reminders(
        self, request: actors_pb2.ListActorRemindersRequest, context: Context
    ) -> actors_pb2.ListActorRemindersResponse:
        actor_id = request.actor_id if request.HasField("actor_id") else None
        views = await _run(context, self._ops.reminders.list_reminders(request.actor_type, actor_id))
        return actors_pb2.ListActorRemindersResponse(reminders=[reminders.grpc_named_reminder(v) for v in views])

    async def unregister_actor_reminders_by_type(
        self, request: actors_pb2.UnregisterActorRemindersByTypeRequest, context: Context
    ) -> actors_pb2.UnregisterActorRemindersByTypeResponse:
        actor_id = request.actor_id if request.HasField("actor_id") else None
        await _run(context, self._ops.reminders.unregister_reminders_by_type(request.actor_type, actor_id))
        return actors_pb2.UnregisterActorRemindersByTypeResponse()

    # ------------------------------------------------------------------ timers

    async def register_actor_timer(
        self, request: actors_pb2.RegisterActorTimerRequest, context: Context
    ) -> empty_pb2.Empty:
        await _run(context, self._ops.timers.register_timer(timer_from_grpc(request)))
        return empty_pb2.Empty()

    async def unregister_actor_timer(
        self, request: actors_pb2.UnregisterActorTimerRequest, context: Context
    ) -> empty_pb2.Empty:
        await _run(context, self._ops.timers.unregister_timer(request.actor_type, request.actor_id, request.name))
        return empty_pb2.Empty()

    async def get_actor_timer(
        self, request: actors_pb2.GetActorTimerRequest, context: Context
    ) -> actors_pb2.GetActorTimerResponse:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{SERVICE_NAME}/GetActorTimer {TIMER_READ_UNSUPPORTED}")
        raise AssertionError("unreachable")  # context.abort raises

    async def list_actor_timers(
        self, request: actors_pb2.ListActorTimersRequest, context: Context
    ) -> actors_pb2.ListActorTimersResponse:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{SERVICE_NAME}/ListActorTimers {TIMER_READ_UNSUPPORTED}")
        raise AssertionError("unreachable")  # context.abort raises

    # ------------------------------------------------------------------ invocation and state

    async def invoke_actor(
        self, request: actors_pb2.InvokeActorRequest, context: Context
    ) -> actors_pb2.InvokeActorResponse:
        headers = list(request.metadata.items())
        response = await _run(
            context,
            self._ops.invocation.invoke(request.actor_type, request.actor_id, request.method, request.data, headers),
        )
        if response.status != 200:
            # An actor error the app flagged (X-DaprErrorResponseHeader): its body is the error.
            await context.abort(
                grpc.StatusCode.INTERNAL,
                f"error invoke actor method: error from actor service: ({response.status}) "
                + response.body.decode("utf-8", "replace"),
            )
        return actors_pb2.InvokeActorResponse(data=response.body)

    async def get_actor_state(
        self, request: actors_pb2.GetActorStateRequest, context: Context
    ) -> actors_pb2.GetActorStateResponse:
        value = await _run(context, self._ops.state.get_state(request.actor_type, request.actor_id, request.key))
        return actors_pb2.GetActorStateResponse(data=value or b"")

    async def execute_actor_state_transaction(
        self, request: actors_pb2.ExecuteActorStateTransactionRequest, context: Context
    ) -> empty_pb2.Empty:
        try:
            ops = stateops.ops_from_grpc(request.operations)
        except ActorApiError as err:
            await _abort(context, err)
        await _run(context, self._ops.state.transact_state(request.actor_type, request.actor_id, ops))
        return empty_pb2.Empty()

    # ------------------------------------------------------------------ gRPC actor host

    async def subscribe_actor_events(
        self, request_iterator: AsyncIterator[actors_pb2.SubscribeActorEventsRequestAlpha1], context: Context
    ) -> AsyncIterator[actors_pb2.SubscribeActorEventsResponseAlpha1]:
        async for message in self._ops.streams.serve_stream(request_iterator, context):
            yield message

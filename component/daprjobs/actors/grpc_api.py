"""The actor RPCs of ``dapr.proto.runtime.v1.Dapr`` (wire-compat §D.5, §F rows 31-34) over the runtime.

Thin adapters: each turns its request into a runtime operation and an ``ActorApiError`` into a gRPC status.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, NoReturn, TypeVar

import grpc
from dapr.proto.runtime.v1 import actors_pb2
from google.protobuf import empty_pb2

from daprjobs.actors import reminders, stateops
from daprjobs.actors.errors import ActorApiError
from daprjobs.actors.timers import timer_from_grpc

if TYPE_CHECKING:
    from daprjobs.actors.runtime import ActorRuntime

log = logging.getLogger(__name__)
T = TypeVar("T")


async def _abort(context: grpc.aio.ServicerContext, err: ActorApiError) -> NoReturn:
    log.debug("actor gRPC error code=%s error=%r", err.grpc_code.name, err)
    await context.abort(err.grpc_code, err.message)
    raise AssertionError("unreachable")  # context.abort raises


async def _run(context: grpc.aio.ServicerContext, operation: Awaitable[T]) -> T:
    try:
        return await operation
    except ActorApiError as err:
        await _abort(context, err)


async def register_actor_reminder(
    rt: ActorRuntime, request: actors_pb2.RegisterActorReminderRequest, context: grpc.aio.ServicerContext
) -> empty_pb2.Empty:
    spec = reminders.reminder_from_grpc(request)
    await _run(context, rt.register_reminder(spec, validate_actor_id=True))
    return empty_pb2.Empty()


async def unregister_actor_reminder(
    rt: ActorRuntime, request: actors_pb2.UnregisterActorReminderRequest, context: grpc.aio.ServicerContext
) -> empty_pb2.Empty:
    await _run(context, rt.unregister_reminder(request.actor_type, request.actor_id, request.name))
    return empty_pb2.Empty()


async def get_actor_reminder(
    rt: ActorRuntime, request: actors_pb2.GetActorReminderRequest, context: grpc.aio.ServicerContext
) -> actors_pb2.GetActorReminderResponse:
    view = await _run(context, rt.get_reminder(request.actor_type, request.actor_id, request.name))
    return reminders.grpc_get_response(view)


async def list_actor_reminders(
    rt: ActorRuntime, request: actors_pb2.ListActorRemindersRequest, context: grpc.aio.ServicerContext
) -> actors_pb2.ListActorRemindersResponse:
    actor_id = request.actor_id if request.HasField("actor_id") else None
    views = await _run(context, rt.list_reminders(request.actor_type, actor_id))
    return actors_pb2.ListActorRemindersResponse(reminders=[reminders.grpc_named_reminder(v) for v in views])


async def unregister_actor_reminders_by_type(
    rt: ActorRuntime,
    request: actors_pb2.UnregisterActorRemindersByTypeRequest,
    context: grpc.aio.ServicerContext,
) -> actors_pb2.UnregisterActorRemindersByTypeResponse:
    actor_id = request.actor_id if request.HasField("actor_id") else None
    await _run(context, rt.unregister_reminders_by_type(request.actor_type, actor_id))
    return actors_pb2.UnregisterActorRemindersByTypeResponse()


async def register_actor_timer(
    rt: ActorRuntime, request: actors_pb2.RegisterActorTimerRequest, context: grpc.aio.ServicerContext
) -> empty_pb2.Empty:
    await _run(context, rt.register_timer(timer_from_grpc(request)))
    return empty_pb2.Empty()


async def unregister_actor_timer(
    rt: ActorRuntime, request: actors_pb2.UnregisterActorTimerRequest, context: grpc.aio.ServicerContext
) -> empty_pb2.Empty:
    await _run(context, rt.unregister_timer(request.actor_type, request.actor_id, request.name))
    return empty_pb2.Empty()


async def invoke_actor(
    rt: ActorRuntime, request: actors_pb2.InvokeActorRequest, context: grpc.aio.ServicerContext
) -> actors_pb2.InvokeActorResponse:
    headers = list(request.metadata.items())
    response = await _run(
        context, rt.invoke(request.actor_type, request.actor_id, request.method, request.data, headers)
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
    rt: ActorRuntime, request: actors_pb2.GetActorStateRequest, context: grpc.aio.ServicerContext
) -> actors_pb2.GetActorStateResponse:
    value = await _run(context, rt.get_state(request.actor_type, request.actor_id, request.key))
    return actors_pb2.GetActorStateResponse(data=value or b"")


async def execute_actor_state_transaction(
    rt: ActorRuntime,
    request: actors_pb2.ExecuteActorStateTransactionRequest,
    context: grpc.aio.ServicerContext,
) -> empty_pb2.Empty:
    try:
        ops = stateops.ops_from_grpc(request.operations)
    except ActorApiError as err:
        await _abort(context, err)
    await _run(context, rt.transact_state(request.actor_type, request.actor_id, ops))
    return empty_pb2.Empty()

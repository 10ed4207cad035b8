"""The gRPC actor host stream, ``SubscribeActorEventsAlpha1`` (wire-compat §D.5), as an ``ActorAppChannel``.

The app dials the sidecar, sends ``initial_request`` (its actor types and configuration, the gRPC form of
``/dapr/config``) and gets ``initial_response``. From then on the sidecar pushes ``invoke_request``,
``reminder_request``, ``timer_request`` and ``deactivate_request``, each with an id, and the app answers with the
matching ``*_response`` or ``request_failed``. The stream's life is the registration: when it closes, the types
are unregistered.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
from dapr.proto.runtime.v1 import actors_pb2
from google.protobuf import any_pb2, wrappers_pb2

from daprjobs.actors.actor_app_channel import REMINDER_CANCEL_HEADER, AppResponse, AppUnreachable
from daprjobs.actors.appconfig import ActorAppConfig, from_initial_request
from daprjobs.actors.timers import TimerSpec

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 60.0
StreamOpened = Callable[[ActorAppConfig, "StreamActorChannel"], Awaitable[None]]
StreamClosed = Callable[["StreamActorChannel"], Awaitable[None]]


def _bytes_any(raw: bytes) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(wrappers_pb2.BytesValue(value=raw))
    return packed


class StreamActorChannel:
    """One connected actor stream. Requests are matched to replies by id; a closed stream fails them all."""

    def __init__(self) -> None:
        self._outgoing: asyncio.Queue[actors_pb2.SubscribeActorEventsResponseAlpha1 | None] = asyncio.Queue()
        self._pending: dict[str, asyncio.Future[actors_pb2.SubscribeActorEventsRequestAlpha1]] = {}
        self._ids = itertools.count(1)
        self.closed = False

    # ---- ActorAppChannel

    async def _call(
        self, build: Callable[[str], actors_pb2.SubscribeActorEventsResponseAlpha1]
    ) -> actors_pb2.SubscribeActorEventsRequestAlpha1:
        if self.closed:
            raise AppUnreachable("the actor stream is closed")
        request_id = str(next(self._ids))
        future: asyncio.Future[actors_pb2.SubscribeActorEventsRequestAlpha1] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending[request_id] = future
        self._outgoing.put_nowait(build(request_id))
        try:
            return await future
        finally:
            self._pending.pop(request_id, None)

    @staticmethod
    def _failure(reply: actors_pb2.SubscribeActorEventsRequestAlpha1) -> AppResponse | None:
        if reply.WhichOneof("request_type") != "request_failed":
            return None
        failed = reply.request_failed
        status = 404 if failed.code == grpc.StatusCode.NOT_FOUND.value[0] else 500
        return AppResponse(status, failed.message.encode())

    async def invoke(
        self, actor_type: str, actor_id: str, method: str, body: bytes, headers: list[tuple[str, str]]
    ) -> AppResponse:
        metadata: dict[str, str] = {}
        for key, value in headers:
            metadata.setdefault(key, value)
        reply = await self._call(
            lambda rid: actors_pb2.SubscribeActorEventsResponseAlpha1(
                invoke_request=actors_pb2.SubscribeActorEventsResponseInvokeRequestAlpha1(
                    id=rid, actor_type=actor_type, actor_id=actor_id, method=method, data=body, metadata=metadata
                )
            )
        )
        failure = self._failure(reply)
        if failure is not None:
            return failure
        response = reply.invoke_response
        resp_headers = list(response.metadata.items())
        # error=true is an application error: the payload goes back to the caller as the error body.
        return AppResponse(500 if response.error else 200, response.data, resp_headers)

    async def remind(self, actor_type: str, actor_id: str, name: str, data: any_pb2.Any | None,
                     trigger_id: str | None = None) -> AppResponse:
        # The alpha stream's reminder_request has no field for a trigger id: it is not sent to gRPC actor hosts.
        def build(rid: str) -> actors_pb2.SubscribeActorEventsResponseAlpha1:
            request = actors_pb2.SubscribeActorEventsResponseReminderRequestAlpha1(
                id=rid, actor_type=actor_type, actor_id=actor_id, name=name, due_time="", period=""
            )
            if data is not None:
                request.data.CopyFrom(data)
            return actors_pb2.SubscribeActorEventsResponseAlpha1(reminder_request=request)

        reply = await self._call(build)
        failure = self._failure(reply)
        if failure is not None:
            return failure
        headers = [(REMINDER_CANCEL_HEADER, "true")] if reply.reminder_response.cancel else []
        return AppResponse(200, b"", headers)

    async def timer(self, spec: TimerSpec) -> AppResponse:
        def build(rid: str) -> actors_pb2.SubscribeActorEventsResponseAlpha1:
            request = actors_pb2.SubscribeActorEventsResponseTimerRequestAlpha1(
                id=rid,
                actor_type=spec.actor_type,
                actor_id=spec.actor_id,
                name=spec.name,
                due_time=spec.due_time,
                period=spec.period,
                callback=spec.callback,
            )
            if spec.data is not None:
                request.data.CopyFrom(_bytes_any(spec.data))
            return actors_pb2.SubscribeActorEventsResponseAlpha1(timer_request=request)

        reply = await self._call(build)
        failure = self._failure(reply)
        return failure if failure is not None else AppResponse(200)

    async def deactivate(self, actor_type: str, actor_id: str) -> AppResponse:
        reply = await self._call(
            lambda rid: actors_pb2.SubscribeActorEventsResponseAlpha1(
                deactivate_request=actors_pb2.SubscribeActorEventsResponseDeactivateRequestAlpha1(
                    id=rid, actor_type=actor_type, actor_id=actor_id
                )
            )
        )
        failure = self._failure(reply)
        return failure if failure is not None else AppResponse(200)

    # ---- stream plumbing

    def resolve(self, reply: actors_pb2.SubscribeActorEventsRequestAlpha1) -> None:
        kind = reply.WhichOneof("request_type")
        if kind is None or kind == "initial_request":
            log.warning("actor stream: unexpected message kind=%s", kind)
            return
        request_id = getattr(reply, kind).id
        future = self._pending.get(request_id)
        if future is None or future.done():
            log.warning("actor stream: reply for unknown request id=%s kind=%s", request_id, kind)
            return
        future.set_result(reply)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for future in self._pending.values():
            if not future.done():
                future.set_exception(AppUnreachable("the actor stream closed"))
        self._outgoing.put_nowait(None)

    async def outgoing(self) -> AsyncIterator[actors_pb2.SubscribeActorEventsResponseAlpha1]:
        while True:
            message = await self._outgoing.get()
            if message is None:
                return
            yield message


async def serve_actor_stream(
    request_iterator: AsyncIterator[actors_pb2.SubscribeActorEventsRequestAlpha1],
    context: grpc.aio.ServicerContext,
    opened: StreamOpened,
    closed: StreamClosed,
) -> AsyncIterator[actors_pb2.SubscribeActorEventsResponseAlpha1]:
    """The body of the ``SubscribeActorEventsAlpha1`` handler: handshake, then relay until either side ends.

    ``opened(config, channel)`` runs once the app has registered (before it is acknowledged) and
    ``closed(channel)`` when the stream ends.
    """
    try:
        first = await asyncio.wait_for(anext(request_iterator), HANDSHAKE_TIMEOUT_S)
    except (StopAsyncIteration, TimeoutError):
        return
    if first.WhichOneof("request_type") != "initial_request":
        await context.abort(
            grpc.StatusCode.INVALID_ARGUMENT, "the first message on the actor stream must be initial_request"
        )
        return
    config = from_initial_request(first.initial_request)
    channel = StreamActorChannel()
    reader: asyncio.Task[None] | None = None

    async def read() -> None:
        try:
            async for message in request_iterator:
                channel.resolve(message)
        except asyncio.CancelledError:
            raise
        except Exception as err:
            log.info("actor stream read ended error=%s", err)
        finally:
            channel.close()

    try:
        await opened(config, channel)
        log.info("actor stream registered entities=%s", list(config.entities))
        yield actors_pb2.SubscribeActorEventsResponseAlpha1(
            initial_response=actors_pb2.SubscribeActorEventsResponseInitialAlpha1()
        )
        reader = asyncio.create_task(read(), name="actor stream reader")
        async for message in channel.outgoing():
            yield message
    finally:
        channel.close()
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        try:
            await closed(channel)
        except Exception:
            log.exception("actor stream unregistration failed")
        log.info("actor stream closed entities=%s", list(config.entities))

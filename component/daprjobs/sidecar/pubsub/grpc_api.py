"""gRPC publish: ``PublishEvent`` and ``BulkPublishEvent``/``BulkPublishEventAlpha1`` (one handler, as daprd:
partial failures come back with status OK and ``failedEntries``)."""

from __future__ import annotations

from dapr.proto.runtime.v1 import pubsub_pb2
from google.protobuf import empty_pb2

from daprjobs.sidecar.block import Context
from daprjobs.sidecar.errors import abort_grpc
from daprjobs.sidecar.pubsub.errors import PubSubError
from daprjobs.sidecar.pubsub.publisher import BulkEntry, Publisher


class PublishGrpcApi:
    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher

    async def publish_event(self, request: pubsub_pb2.PublishEventRequest, context: Context) -> empty_pb2.Empty:
        try:
            await self._publisher.publish(request.pubsub_name, request.topic, request.data,
                                          request.data_content_type, dict(request.metadata))
        except PubSubError as err:
            await abort_grpc(context, err)
        return empty_pb2.Empty()

    async def bulk_publish_event(self, request: pubsub_pb2.BulkPublishRequest,
                                 context: Context) -> pubsub_pb2.BulkPublishResponse:
        entries = [BulkEntry(e.entry_id, e.event, e.content_type, dict(e.metadata)) for e in request.entries]
        try:
            failed = await self._publisher.publish_bulk(request.pubsub_name, request.topic, entries,
                                                        dict(request.metadata))
        except PubSubError as err:
            await abort_grpc(context, err)
            raise AssertionError("unreachable") from None
        return pubsub_pb2.BulkPublishResponse(failedEntries=[
            pubsub_pb2.BulkPublishResponseFailedEntry(entry_id=f.entry_id, error=f.error) for f in failed])

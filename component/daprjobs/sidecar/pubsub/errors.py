"""daprd's publish errors (``pkg/api/errors/pubsub.go``): HTTP status, gRPC code, legacy ``errorCode`` tag,
ErrorInfo reason and message, plus a ``ResourceInfo{pubsub, <name>}`` detail when the component is known."""

from __future__ import annotations

from collections.abc import Mapping

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from daprjobs.sidecar.errors import ERROR_DOMAIN, ERROR_INFO_TYPE_URL, KitError, go_json_dumps

RESOURCE_INFO_TYPE_URL = "type.googleapis.com/google.rpc.ResourceInfo"


class PubSubError(KitError):
    """A kit error whose HTTP ``errorCode`` is daprd's legacy tag (``ERR_PUBSUB_…``), not the reason."""

    def __init__(self, grpc_code: grpc.StatusCode, http_status: int, message: str, tag: str, reason: str,
                 metadata: Mapping[str, str] | None, resource: str | None = None) -> None:
        super().__init__(grpc_code, http_status, message, reason, dict(metadata) if metadata is not None else None)
        self.tag = tag
        self.resource = resource

    def status_proto(self) -> status_pb2.Status:
        status = super().status_proto()
        if self.resource is not None:
            detail = any_pb2.Any()
            detail.Pack(error_details_pb2.ResourceInfo(resource_type="pubsub", resource_name=self.resource,
                                                       description=self.message))
            status.details.append(detail)
        return status

    def http_body(self) -> bytes:
        details = [{"@type": ERROR_INFO_TYPE_URL, "domain": ERROR_DOMAIN, "metadata": self.metadata,
                    "reason": self.reason}]
        if self.resource is not None:
            details.append({"@type": RESOURCE_INFO_TYPE_URL, "description": self.message, "owner": "",
                            "resource_name": self.resource, "resource_type": "pubsub"})
        return b'{"errorCode":%s,"message":%s,"details":%s}' % (
            go_json_dumps(self.tag), go_json_dumps(self.message), go_json_dumps(details))


Meta = Mapping[str, str] | None
_BAD = grpc.StatusCode.INVALID_ARGUMENT


def not_configured(name: str, meta: Meta) -> PubSubError:
    return PubSubError(grpc.StatusCode.FAILED_PRECONDITION, 400, f"pubsub {name} is not configured",
                       "ERR_PUBSUB_NOT_CONFIGURED", "DAPR_PUBSUB_NOT_CONFIGURED", meta)


def name_empty(meta: Meta) -> PubSubError:
    return PubSubError(_BAD, 404, "pubsub name is empty", "ERR_PUBSUB_EMPTY", "DAPR_PUBSUB_NAME_EMPTY", meta)


def not_found(name: str, meta: Meta) -> PubSubError:
    return PubSubError(_BAD, 404, f"pubsub {name} is not found", "ERR_PUBSUB_NOT_FOUND", "DAPR_PUBSUB_NOT_FOUND",
                       meta)


def topic_empty(name: str, meta: Meta) -> PubSubError:
    return PubSubError(_BAD, 404, f"topic is empty in pubsub {name}", "ERR_TOPIC_NAME_EMPTY",
                       "DAPR_PUBSUB_TOPIC_NAME_EMPTY", meta, name)


def metadata_invalid(name: str, meta: Meta, detail: str) -> PubSubError:
    return PubSubError(_BAD, 400, f"failed deserializing metadata. Error: {detail}", "ERR_PUBSUB_REQUEST_METADATA",
                       "DAPR_PUBSUB_METADATA_DESERIALIZATION", meta, name)


def cloud_event_creation(name: str, meta: Meta) -> PubSubError:
    return PubSubError(_BAD, 500, "cannot create cloudevent", "ERR_PUBSUB_CLOUD_EVENTS_SER",
                       "DAPR_PUBSUB_CLOUD_EVENT_CREATION", meta or {}, name)


def unmarshal_events(name: str, topic: str, meta: Meta, detail: str) -> PubSubError:
    return PubSubError(_BAD, 400, f"error when unmarshaling the request for topic {topic} pubsub {name}: {detail}",
                       "ERR_PUBSUB_EVENTS_SER", "DAPR_PUBSUB_UNMARSHAL_EVENTS", meta, name)


def marshal_events(name: str, topic: str, detail: str) -> PubSubError:
    message = f"error marshaling events to bytes for topic {topic} pubsub {name}. error: {detail}"
    return PubSubError(_BAD, 400, message, "ERR_PUBSUB_EVENTS_SER", "DAPR_PUBSUB_MARSHAL_EVENTS",
                       {"error": detail}, name)


def forbidden(name: str, topic: str, app_id: str) -> PubSubError:
    message = f"topic {topic} is not allowed for app id {app_id}"
    return PubSubError(grpc.StatusCode.PERMISSION_DENIED, 403, message, "ERR_PUBSUB_FORBIDDEN",
                       "DAPR_PUBSUB_FORBIDDEN", {"topic": topic, "error": message}, name)


def publish_failed(name: str, topic: str, detail: str) -> PubSubError:
    return PubSubError(grpc.StatusCode.INTERNAL, 500,
                       f"error when publishing to topic {topic} in pubsub {name}: {detail}",
                       "ERR_PUBSUB_PUBLISH_MESSAGE", "DAPR_PUBSUB_PUBLISH_MESSAGE",
                       {"topic": topic, "error": detail}, name)

"""The actor API's error values: one exception carrying both its HTTP and its gRPC shape.

daprd answers actor calls with legacy ``{"errorCode": "ERR_...", "message": "..."}`` bodies (no details),
so one value per failure is enough for both transports.
"""

from __future__ import annotations

import json

import grpc


class ActorApiError(Exception):
    def __init__(self, http_status: int, grpc_code: grpc.StatusCode, error_code: str, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.grpc_code = grpc_code
        self.error_code = error_code
        self.message = message

    def http_body(self) -> bytes:
        return json.dumps({"errorCode": self.error_code, "message": self.message}).encode()

    def __repr__(self) -> str:
        return f"ActorApiError({self.http_status}, {self.error_code}, {self.message!r})"


def _internal(error_code: str, message: str) -> ActorApiError:
    return ActorApiError(500, grpc.StatusCode.INTERNAL, error_code, message)


def non_hosted_reminder() -> ActorApiError:
    return ActorApiError(
        403,
        grpc.StatusCode.PERMISSION_DENIED,
        "ERR_ACTOR_REMINDER_NON_HOSTED",
        "operations on actor reminders are only possible on hosted actor types",
    )


def reminder_exists(name: str) -> ActorApiError:
    return ActorApiError(
        409,
        grpc.StatusCode.ALREADY_EXISTS,
        "ERR_ACTOR_REMINDER_ALREADY_EXISTS",
        f"actor reminder already exists: {name}",
    )


def malformed_request(detail: str) -> ActorApiError:
    return ActorApiError(
        400, grpc.StatusCode.INVALID_ARGUMENT, "ERR_MALFORMED_REQUEST", f"failed deserializing HTTP body: {detail}"
    )


def bad_request(detail: str) -> ActorApiError:
    return ActorApiError(400, grpc.StatusCode.INVALID_ARGUMENT, "ERR_BAD_REQUEST", f"invalid request: {detail}")


def reminder_create(detail: str) -> ActorApiError:
    return _internal("ERR_ACTOR_REMINDER_CREATE", f"error creating actor reminder: {detail}")


def reminder_get(detail: str) -> ActorApiError:
    return _internal("ERR_ACTOR_REMINDER_GET", f"error getting actor reminder: {detail}")


def reminder_delete(detail: str) -> ActorApiError:
    return _internal("ERR_ACTOR_REMINDER_DELETE", f"error deleting actor reminder: {detail}")


def reminder_not_found(name: str) -> ActorApiError:
    return ActorApiError(
        404, grpc.StatusCode.NOT_FOUND, "ERR_ACTOR_REMINDER_NOT_FOUND", f"actor reminder not found: {name}"
    )


def timer_create(detail: str) -> ActorApiError:
    return _internal("ERR_ACTOR_TIMER_CREATE", f"error creating actor timer: {detail}")


def timer_delete(detail: str) -> ActorApiError:
    return _internal("ERR_ACTOR_TIMER_DELETE", f"error deleting actor timer: {detail}")


def invoke_failed(detail: str) -> ActorApiError:
    return _internal("ERR_ACTOR_INVOKE_METHOD", f"error invoke actor method: {detail}")


def state_get(detail: str) -> ActorApiError:
    return _internal("ERR_ACTOR_STATE_GET", f"error getting actor state: {detail}")


def state_transaction(detail: str) -> ActorApiError:
    return ActorApiError(
        500,
        grpc.StatusCode.INTERNAL,
        "ERR_ACTOR_STATE_TRANSACTION_SAVE",
        f"error saving actor transaction state: {detail}",
    )


def unsupported_state_operation(operation: str) -> ActorApiError:
    return ActorApiError(
        400,
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERR_NOT_SUPPORTED_STATE_OPERATION",
        f"operation type {operation} not supported",
    )


def actor_runtime_not_found() -> ActorApiError:
    return ActorApiError(
        500,
        grpc.StatusCode.INTERNAL,
        "ERR_ACTOR_RUNTIME_NOT_FOUND",
        'the state store is not configured to use the actor runtime. Have you set the - name: actorStateStore '
        'value: "true" in your state store component file?',
    )


def stack_depth_exceeded() -> ActorApiError:
    return _internal("ERR_ACTOR_STACK_DEPTH", "maximum stack depth exceeded")


def no_address(actor_type: str, actor_id: str) -> ActorApiError:
    return ActorApiError(
        500,
        grpc.StatusCode.INTERNAL,
        "ERR_ACTOR_NO_ADDRESS",
        f"no host is available for actor {actor_type}/{actor_id}",
    )

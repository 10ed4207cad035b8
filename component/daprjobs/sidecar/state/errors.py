"""The State API's errors as daprd builds them (``pkg/api/errors/state.go``, ``pkg/messages``).

Two families: the store-lookup/key/transaction-size errors are dapr/kit errors with a legacy tag (``errorCode`` over
HTTP is the tag, e.g. ``ERR_STATE_STORE_NOT_FOUND``, while the ErrorInfo reason is ``DAPR_STATE_NOT_FOUND``) and most
carry a ResourceInfo; the operation failures are ``apierrors.Basic`` on gRPC (ErrorInfo reason = the legacy code)
and plain ``{"errorCode","message"}`` over HTTP.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from daprjobs.components.state.api import BulkStoreError, ETagError
from daprjobs.components.state.keys import IllegalKey
from daprjobs.sidecar.errors import ERROR_DOMAIN, KitError, LegacyApiError, go_json_dumps

RESOURCE_INFO_TYPE_URL = "type.googleapis.com/google.rpc.ResourceInfo"
BAD_REQUEST_TYPE_URL = "type.googleapis.com/google.rpc.BadRequest"

# daprd's message formats (pkg/messages/predefined.go).
MSG_GET = "fail to get {key} from state store {store}: {error}"
MSG_SAVE = "failed saving state in state store {store}: {error}"
MSG_DELETE = "failed deleting state with key {key}: {error}"
MSG_DELETE_BULK = "failed deleting state in state store {store}: {error}"
MSG_TRANSACTION = "error while executing state transaction: {error}"


class StateKitError(KitError):
    """A kit error with a legacy tag and optional ResourceInfo / BadRequest details."""

    def __init__(self, grpc_code: grpc.StatusCode, http_status: int, message: str, reason: str,
                 metadata: dict[str, str] | None, *, tag: str, resource: str | None = None,
                 field_violation: tuple[str, str] | None = None) -> None:
        super().__init__(grpc_code, http_status, message, reason, metadata)
        self.tag = tag
        self.resource = resource
        self.field_violation = field_violation

    def status_proto(self) -> status_pb2.Status:
        status = super().status_proto()
        if self.resource is not None:
            detail = any_pb2.Any()
            detail.Pack(error_details_pb2.ResourceInfo(resource_type="state", resource_name=self.resource))
            status.details.append(detail)
        if self.field_violation is not None:
            detail = any_pb2.Any()
            field, description = self.field_violation
            detail.Pack(error_details_pb2.BadRequest(
                field_violations=[error_details_pb2.BadRequest.FieldViolation(field=field, description=description)]))
            status.details.append(detail)
        return status

    def http_body(self) -> bytes:
        details: list[dict[str, object]] = [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "domain": ERROR_DOMAIN, "metadata": self.metadata,
             "reason": self.reason}]
        if self.resource is not None:
            details.append({"@type": RESOURCE_INFO_TYPE_URL, "description": "", "owner": "",
                            "resource_name": self.resource, "resource_type": "state"})
        if self.field_violation is not None:
            field, description = self.field_violation
            details.append({"@type": BAD_REQUEST_TYPE_URL,
                            "field_violations": [{"field": field, "description": description}]})
        return b'{"errorCode":%s,"message":%s,"details":[%s]}' % (
            go_json_dumps(self.tag or self.reason), go_json_dumps(self.message),
            b",".join(go_json_dumps(d) for d in details))


def _app_meta(app_id: str | None) -> dict[str, str] | None:
    return {"appID": app_id} if app_id else None


def store_not_found(store: str, app_id: str | None) -> StateKitError:
    """HTTP passes the app id (ErrorInfo metadata), gRPC does not, as in daprd."""
    return StateKitError(grpc.StatusCode.INVALID_ARGUMENT, 400, f"state store {store} is not found",
                         "DAPR_STATE_NOT_FOUND", _app_meta(app_id), tag="ERR_STATE_STORE_NOT_FOUND")


def stores_not_configured(store: str, app_id: str | None) -> StateKitError:
    return StateKitError(grpc.StatusCode.FAILED_PRECONDITION, 500, f"state store {store} is not configured",
                         "DAPR_STATE_NOT_CONFIGURED", _app_meta(app_id), tag="ERR_STATE_STORE_NOT_CONFIGURED")


def illegal_key(store: str, err: IllegalKey) -> StateKitError:
    return StateKitError(grpc.StatusCode.INVALID_ARGUMENT, 400, str(err), "DAPR_STATE_ILLEGAL_KEY", None,
                         tag="ERR_MALFORMED_REQUEST", resource=store, field_violation=(err.key, str(err)))


def too_many_operations(store: str, count: int, limit: int) -> StateKitError:
    return StateKitError(
        grpc.StatusCode.INVALID_ARGUMENT, 400,
        f"the transaction contains {count} operations, which is more than what the state store supports: {limit}",
        "DAPR_STATE_TOO_MANY_TRANSACTIONS", {"currentOpsTransaction": str(count), "maxOpsPerTransaction": str(limit)},
        tag="ERR_STATE_STORE_TOO_MANY_TRANSACTIONS", resource=store)


def query_unsupported(store: str) -> StateKitError:
    return StateKitError(grpc.StatusCode.INTERNAL, 500, "state store does not support querying",
                         "DAPR_STATE_QUERYING_NOT_SUPPORTED", None, tag="ERR_STATE_STORE_NOT_SUPPORTED",
                         resource=store)


def etag_kind(err: Exception) -> str | None:
    """``mismatch``/``invalid`` when ``err`` is (or, for a bulk, wholly consists of) ETag errors."""
    if isinstance(err, ETagError):
        return err.kind
    if isinstance(err, BulkStoreError):
        whole = err.as_etag_error()
        return whole.kind if whole is not None else None
    return None


def store_error_text(err: Exception) -> str:
    if isinstance(err, BulkStoreError) and (whole := err.as_etag_error()) is not None:
        return str(whole)
    return str(err)


def grpc_basic(code: grpc.StatusCode, reason: str, message: str) -> KitError:
    """daprd's ``apierrors.Basic``: ErrorInfo reason = the legacy code, no metadata."""
    return KitError(code, 500, message, reason, None)


def grpc_write_failure(err: Exception, reason: str, message: str) -> KitError:
    """Save/delete failures: ABORTED for an ETag mismatch, INVALID_ARGUMENT for an invalid ETag, else INTERNAL."""
    kind = etag_kind(err)
    code = {ETagError.MISMATCH: grpc.StatusCode.ABORTED, ETagError.INVALID: grpc.StatusCode.INVALID_ARGUMENT}.get(
        kind or "", grpc.StatusCode.INTERNAL)
    return grpc_basic(code, reason, message)


def http_write_failure(err: Exception, code: str, message: str) -> LegacyApiError:
    """Save/delete failures over HTTP: 409 for an ETag mismatch, 400 for an invalid ETag, else 500."""
    kind = etag_kind(err)
    status = {ETagError.MISMATCH: 409, ETagError.INVALID: 400}.get(kind or "", 500)
    return LegacyApiError(code, message, status, grpc.StatusCode.INTERNAL)


def http_error(code: str, message: str, status: int) -> LegacyApiError:
    return LegacyApiError(code, message, status, grpc.StatusCode.INTERNAL)

"""The State API's gRPC methods of ``dapr.proto.runtime.v1.Dapr`` (daprd ``pkg/api/grpc/grpc.go``)."""

from __future__ import annotations

import json
from collections.abc import Mapping

import grpc
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import state_pb2
from google.protobuf import empty_pb2

from daprjobs.components.state.api import DeleteRequest, SetRequest, StateOperation, StateStoreError
from daprjobs.components.state.keys import app_key
from daprjobs.sidecar.block import Context, dapr_unary
from daprjobs.sidecar.errors import KitError, LegacyApiError, abort_grpc
from daprjobs.sidecar.state import errors
from daprjobs.sidecar.state.lookup import StoreLookup, store_key

_CONCURRENCY = {common_pb2.StateOptions.CONCURRENCY_FIRST_WRITE: "first-write",
                common_pb2.StateOptions.CONCURRENCY_LAST_WRITE: "last-write"}
_CONSISTENCY = {common_pb2.StateOptions.CONSISTENCY_EVENTUAL: "eventual",
                common_pb2.StateOptions.CONSISTENCY_STRONG: "strong"}
JSON_CONTENT_TYPE = "application/json"


def _options(item: common_pb2.StateItem) -> tuple[str, str]:
    if not item.HasField("options"):
        return "", ""
    return _CONCURRENCY.get(item.options.concurrency, ""), _CONSISTENCY.get(item.options.consistency, "")


def _etag(item: common_pb2.StateItem) -> str | None:
    return item.etag.value if item.HasField("etag") else None


def _value(item: common_pb2.StateItem) -> bytes:
    """The bytes as given; with ``contentType: application/json`` daprd decodes and re-encodes the JSON."""
    if item.metadata.get("contentType") != JSON_CONTENT_TYPE:
        return item.value
    try:
        parsed = json.loads(item.value)
    except ValueError as exc:
        raise LegacyApiError("ERR_STATE_SAVE", str(exc), 500, grpc.StatusCode.UNKNOWN) from None
    return json.dumps(parsed, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


class StateGrpcMethods:
    def __init__(self, lookup: StoreLookup) -> None:
        self._lookup = lookup

    def handlers(self) -> Mapping[str, grpc.RpcMethodHandler]:
        return {
            "GetState": dapr_unary("GetState", self.get_state),
            "GetBulkState": dapr_unary("GetBulkState", self.get_bulk_state),
            "SaveState": dapr_unary("SaveState", self.save_state),
            "DeleteState": dapr_unary("DeleteState", self.delete_state),
            "DeleteBulkState": dapr_unary("DeleteBulkState", self.delete_bulk_state),
            "ExecuteStateTransaction": dapr_unary("ExecuteStateTransaction", self.execute_state_transaction),
            "QueryStateAlpha1": dapr_unary("QueryStateAlpha1", self.query_state),
        }

    async def get_state(self, request: state_pb2.GetStateRequest, context: Context) -> state_pb2.GetStateResponse:
        try:
            opened = self._lookup.store(request.store_name, http=False)
            key = store_key(opened, request.key)
            try:
                item = await opened.store.get(key, _CONSISTENCY.get(request.consistency, ""))
            except StateStoreError as err:
                raise errors.grpc_basic(grpc.StatusCode.INTERNAL, "ERR_STATE_GET", errors.MSG_GET.format(
                    key=request.key, store=request.store_name, error=err)) from None
        except KitError as err:
            await abort_grpc(context, err)
            raise
        if item is None:
            return state_pb2.GetStateResponse()
        return state_pb2.GetStateResponse(data=item.data, etag=item.etag, metadata=dict(item.metadata))

    async def get_bulk_state(self, request: state_pb2.GetBulkStateRequest,
                             context: Context) -> state_pb2.GetBulkStateResponse:
        try:
            opened = self._lookup.store(request.store_name, http=False)
            if not request.keys:
                return state_pb2.GetBulkStateResponse()
            keys = [store_key(opened, k) for k in request.keys]
            try:
                found = await opened.store.bulk_get(keys)
            except StateStoreError as err:
                # daprd returns the store's error as it is: gRPC code Unknown, no details.
                raise LegacyApiError("ERR_STATE_BULK_GET", str(err), 500, grpc.StatusCode.UNKNOWN) from None
        except (KitError, LegacyApiError) as err:
            await abort_grpc(context, err)
            raise
        resp = state_pb2.GetBulkStateResponse()
        for entry in found:
            item = resp.items.add(key=app_key(entry.key), error=entry.error)
            if entry.item is not None:
                item.data = entry.item.data
                item.etag = entry.item.etag
                item.metadata.update(entry.item.metadata)
        return resp

    async def save_state(self, request: state_pb2.SaveStateRequest, context: Context) -> empty_pb2.Empty:
        try:
            opened = self._lookup.store(request.store_name, http=False)
            writes = []
            for item in request.states:
                if not item.key:
                    raise KitError(grpc.StatusCode.INVALID_ARGUMENT, 400, "state key cannot be empty",
                                   "ERR_STATE_SAVE", None)
                concurrency, consistency = _options(item)
                writes.append(SetRequest(store_key(opened, item.key), _value(item), _etag(item), concurrency,
                                         consistency, dict(item.metadata)))
            if not writes:
                return empty_pb2.Empty()
            try:
                await (opened.store.set(writes[0]) if len(writes) == 1 else opened.store.bulk_set(writes))
            except StateStoreError as err:
                raise errors.grpc_write_failure(err, "ERR_STATE_SAVE", errors.MSG_SAVE.format(
                    store=request.store_name, error=errors.store_error_text(err))) from None
        except (KitError, LegacyApiError) as err:
            await abort_grpc(context, err)
        return empty_pb2.Empty()

    def _delete_request(self, opened_key: str, item: common_pb2.StateItem | state_pb2.DeleteStateRequest
                        ) -> DeleteRequest:
        concurrency, consistency = ("", "")
        if item.HasField("options"):
            concurrency = _CONCURRENCY.get(item.options.concurrency, "")
            consistency = _CONSISTENCY.get(item.options.consistency, "")
        etag = item.etag.value if item.HasField("etag") else None
        return DeleteRequest(opened_key, etag, concurrency, consistency, dict(item.metadata))

    async def delete_state(self, request: state_pb2.DeleteStateRequest, context: Context) -> empty_pb2.Empty:
        try:
            opened = self._lookup.store(request.store_name, http=False)
            delete = self._delete_request(store_key(opened, request.key), request)
            try:
                await opened.store.delete(delete)
            except StateStoreError as err:
                raise errors.grpc_write_failure(err, "ERR_STATE_DELETE", errors.MSG_DELETE.format(
                    key=request.key, error=err)) from None
        except KitError as err:
            await abort_grpc(context, err)
        return empty_pb2.Empty()

    async def delete_bulk_state(self, request: state_pb2.DeleteBulkStateRequest, context: Context) -> empty_pb2.Empty:
        try:
            opened = self._lookup.store(request.store_name, http=False)
            deletes = [self._delete_request(store_key(opened, item.key), item) for item in request.states]
            if deletes:
                try:
                    await (opened.store.delete(deletes[0]) if len(deletes) == 1
                           else opened.store.bulk_delete(deletes))
                except StateStoreError as err:
                    raise errors.grpc_write_failure(err, "ERR_STATE_BULK_DELETE", errors.MSG_DELETE_BULK.format(
                        store=request.store_name, error=errors.store_error_text(err))) from None
        except KitError as err:
            await abort_grpc(context, err)
        return empty_pb2.Empty()

    async def execute_state_transaction(self, request: state_pb2.ExecuteStateTransactionRequest,
                                        context: Context) -> empty_pb2.Empty:
        try:
            opened = self._lookup.store(request.storeName, http=False)
            operations: list[StateOperation] = []
            for op in request.operations:
                item = op.request
                key = store_key(opened, item.key)
                concurrency, consistency = _options(item)
                if op.operationType == "upsert":
                    operations.append(SetRequest(key, item.value, _etag(item), concurrency, consistency,
                                                 dict(item.metadata)))
                elif op.operationType == "delete":
                    operations.append(DeleteRequest(key, _etag(item), concurrency, consistency, dict(item.metadata)))
                else:
                    raise errors.grpc_basic(grpc.StatusCode.UNIMPLEMENTED, "ERR_NOT_SUPPORTED_STATE_OPERATION",
                                            f"operation type {op.operationType} not supported")
            limit = opened.store.multi_max_size()
            if limit and len(operations) > limit:
                raise errors.too_many_operations(opened.name, len(operations), limit)
            try:
                await opened.store.multi(operations, dict(request.metadata))
            except StateStoreError as err:
                raise errors.grpc_basic(grpc.StatusCode.INTERNAL, "ERR_STATE_TRANSACTION",
                                        errors.MSG_TRANSACTION.format(error=err)) from None
        except KitError as err:
            await abort_grpc(context, err)
        return empty_pb2.Empty()

    async def query_state(self, request: state_pb2.QueryStateRequest,
                          context: Context) -> state_pb2.QueryStateResponse:
        try:
            opened = self._lookup.store(request.store_name, http=False)
            raise errors.query_unsupported(opened.name)
        except KitError as err:
            await abort_grpc(context, err)
            raise

"""The State API's HTTP request bodies, decoded the way daprd's Go structs take them.

- save: ``[{"key","value","etag","metadata","options":{"concurrency","consistency"}}]``
- bulk get: ``{"keys":[...],"parallelism":N,"metadata":{...}}``
- transaction: ``{"operations":[{"operation":"upsert"|"delete","request":{...same as save...}}],"metadata":{...}}``

A value is any JSON; the store gets its compact JSON text (object keys sorted, as Go re-encodes a decoded value).
Unknown fields are ignored, wrong types are ``BodyError`` with Go's wording.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from daprjobs.components.state.api import DeleteRequest, SetRequest

_KINDS = {dict: "object", list: "array", str: "string", bool: "bool", type(None): "null", int: "number",
          float: "number"}


class BodyError(ValueError):
    """The body is not JSON of the expected shape."""


@dataclass(frozen=True)
class ItemBody:
    key: str
    value: bytes
    etag: str | None = None
    concurrency: str = ""
    consistency: str = ""
    metadata: dict[str, str] = field(default_factory=dict)

    def set_request(self, stored_key: str, query: dict[str, str]) -> SetRequest:
        """This item as a store write under ``stored_key``; query-string metadata wins over the item's."""
        return SetRequest(stored_key, self.value, self.etag, self.concurrency, self.consistency,
                          {**self.metadata, **query})

    def delete_request(self, stored_key: str, query: dict[str, str]) -> DeleteRequest:
        return DeleteRequest(stored_key, self.etag, self.concurrency, self.consistency, {**self.metadata, **query})


@dataclass(frozen=True)
class BulkGetBody:
    keys: list[str]
    metadata: dict[str, str]


@dataclass(frozen=True)
class TransactionBody:
    operations: list[tuple[str, ItemBody]]
    metadata: dict[str, str]


def _kind(value: object) -> str:
    return _KINDS.get(type(value), "value")


def _unmarshal_error(value: object, where: str, go_type: str) -> BodyError:
    return BodyError(f"json: cannot unmarshal {_kind(value)} into Go {where} of type {go_type}")


def compact_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


def _load(body: bytes) -> Any:
    if not body.strip():
        raise BodyError("EOF")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise BodyError(f"invalid JSON: {exc}") from None


def _string_map(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _unmarshal_error(value, where, "map[string]string")
    for item in value.values():
        if not isinstance(item, str):
            raise _unmarshal_error(item, where, "string")
    return dict(value)


def _optional_string(value: object, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _unmarshal_error(value, where, "string")


def _item(raw: object, struct: str) -> ItemBody:
    if not isinstance(raw, dict):
        raise _unmarshal_error(raw, "value", struct)
    options = raw.get("options") or {}
    if not isinstance(options, dict):
        raise _unmarshal_error(options, f"struct field {struct}.options", "state.SetStateOption")
    return ItemBody(
        key=_optional_string(raw.get("key"), f"struct field {struct}.key") or "",
        value=compact_json(raw.get("value")),
        etag=_optional_string(raw.get("etag"), f"struct field {struct}.etag"),
        concurrency=_optional_string(options.get("concurrency"), "struct field options.concurrency") or "",
        consistency=_optional_string(options.get("consistency"), "struct field options.consistency") or "",
        metadata=_string_map(raw.get("metadata"), f"struct field {struct}.metadata"),
    )


def parse_save(body: bytes) -> list[ItemBody]:
    data = _load(body)
    if not isinstance(data, list):
        raise _unmarshal_error(data, "value", "[]state.SetRequest")
    return [_item(raw, "SetRequest") for raw in data]


def parse_bulk_get(body: bytes) -> BulkGetBody:
    data = _load(body)
    if not isinstance(data, dict):
        raise _unmarshal_error(data, "value", "http.BulkGetRequest")
    keys = data.get("keys") or []
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise _unmarshal_error(keys, "struct field BulkGetRequest.keys", "[]string")
    parallelism = data.get("parallelism")
    if parallelism is not None and not isinstance(parallelism, int):
        raise _unmarshal_error(parallelism, "struct field BulkGetRequest.parallelism", "int")
    return BulkGetBody(keys=list(keys), metadata=_string_map(data.get("metadata"), "struct field metadata"))


def parse_transaction(body: bytes) -> TransactionBody:
    data = _load(body)
    if not isinstance(data, dict):
        raise _unmarshal_error(data, "value", "http.stateTransactionRequestBody")
    raw_ops = data.get("operations") or []
    if not isinstance(raw_ops, list):
        raise _unmarshal_error(raw_ops, "struct field operations", "[]http.stateTransactionRequestBodyOperation")
    operations = []
    for raw in raw_ops:
        if not isinstance(raw, dict):
            raise _unmarshal_error(raw, "value", "http.stateTransactionRequestBodyOperation")
        kind = _optional_string(raw.get("operation"), "struct field operation") or ""
        request = raw.get("request")
        if request is None:
            request = {}
        operations.append((kind, _item(request, "request")))
    return TransactionBody(operations=operations, metadata=_string_map(data.get("metadata"), "struct field metadata"))

"""Actor state transactions as the SDKs send them (pure)."""

from __future__ import annotations

import pytest
from dapr.proto.runtime.v1 import actors_pb2
from daprjobs.actors.actor_errors import ActorApiError
from daprjobs.actors.stateops import StateOperation, collapse, ops_from_grpc, parse_http_transaction
from google.protobuf import any_pb2


def test_python_sdk_transaction() -> None:
    body = (
        b'[{"operation":"upsert","request":{"key":"count","value":{"n": 1, "tags": ["a"]},'
        b'"metadata":{"ttlInSeconds":"30"}}},{"operation":"delete","request":{"key":"old"}},'
        b'{"operation":"upsert","request":{"key":"s","value":"text"}}]'
    )
    assert parse_http_transaction(body) == [
        StateOperation("upsert", "count", b'{"n":1,"tags":["a"]}', 30),
        StateOperation("delete", "old"),
        StateOperation("upsert", "s", b'"text"'),
    ]


def test_ttl_minus_one_means_none() -> None:
    ops = parse_http_transaction(
        b'[{"operation":"upsert","request":{"key":"k","value":1,"metadata":{"ttlInSeconds":"-1"}}}]'
    )
    assert ops == [StateOperation("upsert", "k", b"1", None)]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{", 400, "ERR_MALFORMED_REQUEST"),
        (b'{"operation":"upsert"}', 400, "ERR_MALFORMED_REQUEST"),
        (b"[1]", 400, "ERR_MALFORMED_REQUEST"),
        (b'[{"operation":"upsert","request":{"value":1}}]', 400, "ERR_MALFORMED_REQUEST"),
        (b'[{"operation":"merge","request":{"key":"k"}}]', 400, "ERR_NOT_SUPPORTED_STATE_OPERATION"),
        (b'[{"operation":"upsert","request":{"key":"k","metadata":{"ttlInSeconds":"soon"}}}]', 500,
         "ERR_ACTOR_STATE_TRANSACTION_SAVE"),
        (b'[{"operation":"upsert","request":{"key":"k","metadata":{"ttlInSeconds":5}}}]', 400,
         "ERR_MALFORMED_REQUEST"),
    ],
)
def test_bad_transactions(body: bytes, status: int, code: str) -> None:
    with pytest.raises(ActorApiError) as info:
        parse_http_transaction(body)
    assert (info.value.http_status, info.value.error_code) == (status, code)


def test_grpc_operations_store_any_value_bytes() -> None:
    ops = ops_from_grpc(
        [
            actors_pb2.TransactionalActorStateOperation(
                operationType="upsert", key="k", value=any_pb2.Any(value=b'{"a":1}'), metadata={"ttlInSeconds": "9"}
            ),
            actors_pb2.TransactionalActorStateOperation(operationType="delete", key="d"),
        ]
    )
    assert ops == [StateOperation("upsert", "k", b'{"a":1}', 9), StateOperation("delete", "d")]


def test_collapse_keeps_the_last_operation_per_key() -> None:
    ops = [StateOperation("upsert", "a", b"1"), StateOperation("upsert", "b", b"2"), StateOperation("delete", "a")]
    assert collapse(ops) == [StateOperation("upsert", "b", b"2"), StateOperation("delete", "a")]

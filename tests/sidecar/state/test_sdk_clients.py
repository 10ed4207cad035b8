"""The official Python SDK's state calls (DaprClient sync and dapr.aio) against the sidecar, on etcd and redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from dapr.aio.clients import DaprClient as AioDaprClient
from dapr.clients import DaprClient
from dapr.clients.exceptions import DaprGrpcError, DaprInternalError
from dapr.clients.grpc._request import TransactionalStateOperation, TransactionOperationType
from dapr.clients.grpc._state import Concurrency, StateItem, StateOptions
from daprjobs.sidecar.server import Sidecar

from tests.support.inprocess import in_own_loop

from .conftest import STORES


@pytest.mark.parametrize("store", STORES)
async def test_sync_client_every_operation(sidecar: Sidecar, store: str) -> None:
    tag = uuid.uuid4().hex[:6]

    def scenario() -> dict[str, Any]:
        out: dict[str, Any] = {}
        with DaprClient() as client:
            client.save_state(store, f"{tag}-a", "alpha", state_metadata={"ttlInSeconds": "300"})
            got = client.get_state(store, f"{tag}-a")
            out["a"], out["etag"] = got.data, got.etag
            with pytest.raises(DaprGrpcError) as stale:
                client.save_state(store, f"{tag}-a", "beta", etag=str(int(got.etag) + 100),
                                  options=StateOptions(concurrency=Concurrency.first_write))
            out["stale"] = stale.value
            client.save_state(store, f"{tag}-a", "beta", etag=got.etag,
                              options=StateOptions(concurrency=Concurrency.first_write))
            client.save_bulk_state(store, [StateItem(f"{tag}-b", "bravo"), StateItem(f"{tag}-c", b"\x00\x01")])
            out["bulk"] = [(i.key, i.data, bool(i.etag)) for i in client.get_bulk_state(
                store, [f"{tag}-a", f"{tag}-b", f"{tag}-c", f"{tag}-none"], parallelism=2).items]
            client.execute_state_transaction(store, [
                TransactionalStateOperation(key=f"{tag}-d", data="delta"),
                TransactionalStateOperation(key=f"{tag}-b", operation_type=TransactionOperationType.delete)])
            client.delete_state(store, f"{tag}-c")
            out["after"] = [client.get_state(store, f"{tag}-{k}").data for k in "abcd"]
        return out

    out = await asyncio.to_thread(scenario)
    assert out["a"] == b"alpha" and out["etag"]
    assert out["stale"].code() == grpc.StatusCode.ABORTED
    assert out["stale"].error_code() == "ERR_STATE_SAVE"
    assert out["bulk"] == [(f"{tag}-a", b"beta", True), (f"{tag}-b", b"bravo", True),
                           (f"{tag}-c", b"\x00\x01", True), (f"{tag}-none", b"", False)]
    assert out["after"] == [b"beta", b"", b"", b"delta"]


@pytest.mark.parametrize("store", STORES)
async def test_aio_client_concurrent_writers_with_etags(sidecar: Sidecar, store: str) -> None:
    key = f"counter-{uuid.uuid4().hex[:6]}"

    async def scenario() -> tuple[bytes, int]:
        conflicts = 0
        async with AioDaprClient() as client:
            await client.save_state(store, key, "0")

            async def add_one() -> None:
                nonlocal conflicts
                while True:
                    current = await client.get_state(store, key)
                    try:
                        await client.save_state(store, key, str(int(current.data) + 1), etag=current.etag)
                        return
                    except DaprInternalError as err:  # how dapr.aio's save_state reports an ABORTED
                        assert "possible etag mismatch" in str(err), err
                        conflicts += 1

            await asyncio.gather(*(add_one() for _ in range(20)))
            return (await client.get_state(store, key)).data, conflicts

    value, conflicts = await in_own_loop(scenario)
    assert value == b"20"
    assert conflicts > 0


async def test_sync_client_errors_store_nothing(sidecar: Sidecar) -> None:
    def scenario() -> dict[str, Any]:
        out: dict[str, Any] = {}
        with DaprClient() as client:
            calls: dict[str, Callable[[], object]] = {
                "missing": lambda: client.save_state("nostore", "k", "v"),
                "empty": lambda: client.save_state("statestore", "", "v"),
                "illegal": lambda: client.get_state("statestore", "a||b"),
                "txn": lambda: client.execute_state_transaction("statestore", [
                    TransactionalStateOperation(key="tx-new", data="x"),
                    TransactionalStateOperation(key="tx-other", data="y", etag="12345")]),
                "too_many": lambda: client.execute_state_transaction("limited", [
                    TransactionalStateOperation(key=f"l{i}", data="x") for i in range(4)]),
            }
            for name, call in calls.items():
                with pytest.raises(DaprGrpcError) as err:
                    call()
                out[name] = err.value
            out["tx-new"] = client.get_state("statestore", "tx-new").data
            out["l0"] = client.get_state("limited", "l0").data
        return out

    out = await asyncio.to_thread(scenario)
    assert out["missing"].code() == grpc.StatusCode.INVALID_ARGUMENT
    assert out["missing"].details() == "state store nostore is not found"
    assert out["missing"].error_code() == "DAPR_STATE_NOT_FOUND"
    assert out["empty"].code() == grpc.StatusCode.INVALID_ARGUMENT
    assert out["empty"].details() == "state key cannot be empty"
    assert out["illegal"].error_code() == "DAPR_STATE_ILLEGAL_KEY"
    assert out["txn"].code() == grpc.StatusCode.INTERNAL and out["txn"].error_code() == "ERR_STATE_TRANSACTION"
    assert out["too_many"].error_code() == "DAPR_STATE_TOO_MANY_TRANSACTIONS"
    assert out["tx-new"] == b"" and out["l0"] == b""

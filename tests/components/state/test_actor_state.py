"""Actor state on every store through ``StateStoreActorState`` (what the actor runtime calls)."""

from __future__ import annotations

import pytest
from daprjobs.actors.stateops import StateOperation
from daprjobs.components.state.actor_state import StateStoreActorState
from daprjobs.components.state.api import ETagError, SetRequest, StateStore


async def test_actor_keys_transactions_and_ttl(store: StateStore) -> None:
    actors = StateStoreActorState(store, "app")
    await actors.transact("Cart", "1", [StateOperation("upsert", "items", b'["a"]'),
                                        StateOperation("upsert", "owner", b'"ann"', ttl_seconds=300)])
    assert await actors.get("Cart", "1", "items") == b'["a"]'
    assert await actors.get("Cart", "2", "items") is None
    stored = await store.get("app||Cart||1||owner")
    assert stored is not None and stored.data == b'"ann"' and "ttlExpireTime" in stored.metadata
    await actors.transact("Cart", "1", [StateOperation("delete", "items")])
    assert await actors.get("Cart", "1", "items") is None


async def test_actor_transaction_writes_nothing_when_the_store_refuses(store: StateStore) -> None:
    await store.set(SetRequest("app||Cart||9||a", b"old"))
    actors = StateStoreActorState(store, "app")
    with pytest.raises(ETagError):
        # An actor transaction carries no ETags; a store-level first-write guard makes this one fail on purpose.
        await store.multi([SetRequest("app||Cart||9||b", b"new"),
                           SetRequest("app||Cart||9||a", b"x", concurrency="first-write")])
    assert await actors.get("Cart", "9", "b") is None
    assert await actors.get("Cart", "9", "a") == b"old"

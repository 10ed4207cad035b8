"""Actor state operations (``GetActorState``, ``ExecuteActorStateTransaction``) with daprd's errors."""

from __future__ import annotations

from daprjobs.actors import actor_errors
from daprjobs.actors.state_store import ActorStateStore
from daprjobs.actors.stateops import StateOperation


class ActorStateAccess:
    """Reads and transactions on the actor state store; without one, every call is ERR_ACTOR_RUNTIME_NOT_FOUND."""

    def __init__(self, store: ActorStateStore | None = None) -> None:
        self.store = store

    @property
    def available(self) -> bool:
        return self.store is not None

    def _require(self) -> ActorStateStore:
        if self.store is None:
            raise actor_errors.actor_runtime_not_found()
        return self.store

    async def get_state(self, actor_type: str, actor_id: str, key: str) -> bytes | None:
        store = self._require()
        try:
            return await store.get(actor_type, actor_id, key)
        except Exception as err:
            raise actor_errors.state_get(f"fail to get {key} from state store: {err}") from None

    async def transact_state(self, actor_type: str, actor_id: str, ops: list[StateOperation]) -> None:
        store = self._require()
        try:
            await store.transact(actor_type, actor_id, ops)
        except Exception as err:
            raise actor_errors.state_transaction(str(err)) from None

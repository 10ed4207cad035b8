"""``MemoryStateStore``: the ``StateStore`` contract in process (tests, and ``state.in-memory``-like use).

ETags come from one counter for the whole store, so a key deleted and written again never gets an old ETag back.
Expiry is checked on read; time comes from an injectable wall clock (seconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from daprjobs.components.state.api import (
    AtomicWriteStore,
    BulkGetItem,
    DeleteRequest,
    ETagError,
    StateOperation,
    StoredItem,
    must_be_absent,
    validate_write,
)
from daprjobs.components.state.ttl import expire_time_metadata


@dataclass
class _Entry:
    data: bytes
    version: int
    expires_at: float | None


class MemoryStateStore(AtomicWriteStore):
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._version = 0

    def _live(self, key: str) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at is not None and entry.expires_at <= self._clock():
            del self._entries[key]
            return None
        return entry

    async def get(self, key: str, consistency: str = "") -> StoredItem | None:
        entry = self._live(key)
        if entry is None:
            return None
        return StoredItem(entry.data, str(entry.version), expire_time_metadata(entry.expires_at))

    async def bulk_get(self, keys: Sequence[str]) -> list[BulkGetItem]:
        return [BulkGetItem(key, await self.get(key)) for key in keys]

    def _check(self, request: StateOperation) -> int | None:
        """Raises when the write's preconditions fail; returns its TTL."""
        expected, ttl = validate_write(request)
        entry = self._live(request.key)
        if expected is not None:
            if entry is None:
                raise ETagError(ETagError.MISMATCH, f"state not exist or expired for key={request.key}")
            if entry.version != expected:
                raise ETagError(ETagError.MISMATCH, f"state etag not match for key={request.key}: "
                                                    f"current={entry.version}, expect={expected}")
        elif must_be_absent(request) and entry is not None:
            raise ETagError(ETagError.MISMATCH, "item already exists and no etag was passed")
        return ttl

    def _apply(self, request: StateOperation, ttl: int | None) -> None:
        if isinstance(request, DeleteRequest):
            self._entries.pop(request.key, None)
            return
        self._version += 1
        expires = self._clock() + ttl if ttl else None
        self._entries[request.key] = _Entry(bytes(request.value), self._version, expires)

    async def _write_atomically(self, operations: Sequence[StateOperation]) -> None:
        ttls = [self._check(op) for op in operations]
        for op, ttl in zip(operations, ttls, strict=True):
            self._apply(op, ttl)

    async def close(self) -> None:
        return None

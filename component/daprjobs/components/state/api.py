"""The state store contract: what the State API (and the actor runtime) need from a store, whatever it runs on.

It mirrors components-contrib's ``state.Store`` + ``TransactionalStore``: keys arrive already composed by the
caller (daprd's ``<app-id>||<key>`` scheme lives in ``keys.py``), values are bytes, ETags are opaque strings.

Concurrency, the same on every store here (``memory``, ``etcd_store``, ``redis_store``):

- an ETag given with ``first-write`` or unspecified concurrency must equal the stored one, else ``ETagError``
  (mismatch; also when the key is missing); a non-numeric ETag is ``ETagError`` (invalid);
- ``first-write`` without an ETag writes only a key that does not exist yet;
- ``last-write`` ignores any ETag.

``ttlInSeconds`` metadata on a write sets the key's time to live; ``-1``/``0`` or none: no expiry (a later write
without it clears an earlier one). ``multi`` is all or nothing: every ETag is checked before anything is written.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

FIRST_WRITE = "first-write"
LAST_WRITE = "last-write"
STRONG = "strong"
EVENTUAL = "eventual"
TTL_METADATA_KEY = "ttlInSeconds"
# contrib's GetRespMetaKeyTTLExpireTime: returned with a value that expires.
TTL_EXPIRE_TIME_KEY = "ttlExpireTime"
_MAX_TTL = 2**31 - 1


class Feature(enum.Enum):
    """contrib's state.Feature names, as GetMetadata lists them."""

    ETAG = "ETAG"
    TRANSACTIONAL = "TRANSACTIONAL"
    TTL = "TTL"


ALL_FEATURES = frozenset(Feature)


class StateStoreError(RuntimeError):
    """A store operation failed (bad options or TTL, the backend refused or is unreachable)."""


class ETagError(StateStoreError):
    """contrib's ``state.ETagError``: ``kind`` is ``mismatch`` or ``invalid``; the text is contrib's."""

    MISMATCH = "mismatch"
    INVALID = "invalid"

    def __init__(self, kind: str, detail: str) -> None:
        prefix = "possible etag mismatch. error from state store" if kind == self.MISMATCH else "invalid etag value"
        super().__init__(f"{prefix}: {detail}" if detail else prefix)
        self.kind = kind


class BulkStoreError(StateStoreError):
    """Some writes of a bulk save/delete failed (the others were applied, as with daprd)."""

    def __init__(self, failures: Mapping[str, StateStoreError]) -> None:
        super().__init__("; ".join(f"{key}: {err}" for key, err in failures.items()))
        self.failures = dict(failures)

    def as_etag_error(self) -> ETagError | None:
        """daprd: when every failure is an ETag error the whole bulk is one (invalid wins over mismatch)."""
        errors = list(self.failures.values())
        if not errors or not all(isinstance(e, ETagError) for e in errors):
            return None
        kind = ETagError.INVALID if any(getattr(e, "kind", "") == ETagError.INVALID for e in errors) \
            else ETagError.MISMATCH
        return ETagError(kind, str(self))


@dataclass(frozen=True)
class SetRequest:
    key: str
    value: bytes
    etag: str | None = None
    concurrency: str = ""
    consistency: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeleteRequest:
    key: str
    etag: str | None = None
    concurrency: str = ""
    consistency: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


StateOperation = SetRequest | DeleteRequest


@dataclass(frozen=True)
class StoredItem:
    data: bytes
    etag: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BulkGetItem:
    key: str
    item: StoredItem | None = None
    error: str = ""


class StateStore(Protocol):
    """One state store component (components-contrib's Store + TransactionalStore)."""

    def features(self) -> frozenset[Feature]: ...

    def multi_max_size(self) -> int:
        """Most operations one ``multi`` may carry; 0 when unlimited."""
        ...

    async def get(self, key: str, consistency: str = "") -> StoredItem | None: ...

    async def bulk_get(self, keys: Sequence[str]) -> list[BulkGetItem]:
        """One entry per key, in order; a missing key has ``item`` None."""
        ...

    async def set(self, request: SetRequest) -> None: ...

    async def delete(self, request: DeleteRequest) -> None: ...

    async def bulk_set(self, requests: Sequence[SetRequest]) -> None:
        """Each write on its own (not atomic); ``BulkStoreError`` names the ones that failed."""
        ...

    async def bulk_delete(self, requests: Sequence[DeleteRequest]) -> None: ...

    async def multi(self, operations: Sequence[StateOperation], metadata: Mapping[str, str] | None = None) -> None:
        """All operations atomically, or none (``ETagError`` when a precondition fails)."""
        ...

    async def close(self) -> None: ...


# --- checks every store applies the same way (contrib's CheckRequestOptions and ParseTTL) ---------------------


def check_options(concurrency: str, consistency: str) -> None:
    if concurrency not in ("", FIRST_WRITE, LAST_WRITE):
        raise StateStoreError(f"unrecognized concurrency model '{concurrency}'")
    if consistency not in ("", STRONG, EVENTUAL):
        raise StateStoreError(f"unrecognized consistency model '{consistency}'")


def parse_ttl(metadata: Mapping[str, str]) -> int | None:
    """Seconds to live from ``ttlInSeconds``; None for none (absent, -1 or 0)."""
    text = metadata.get(TTL_METADATA_KEY, "")
    if text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise StateStoreError(f"incorrect value for metadata '{TTL_METADATA_KEY}': {text!r} is not an integer") \
            from None
    if value < -1 or value > _MAX_TTL:
        raise StateStoreError(f"incorrect value for metadata '{TTL_METADATA_KEY}': must be -1 or greater")
    return value if value > 0 else None


def effective_etag(etag: str | None, concurrency: str) -> int | None:
    """The ETag a write must match, as a number (every store's ETags are integers); None when unchecked."""
    if concurrency == LAST_WRITE or etag is None or etag == "":
        return None
    try:
        return int(etag)
    except ValueError:
        raise ETagError(ETagError.INVALID, f"{etag!r} is not a valid etag") from None


def validate_write(request: StateOperation) -> tuple[int | None, int | None]:
    """(expected ETag, TTL seconds) of a write after daprd's checks; raises what the store would."""
    check_options(request.concurrency, request.consistency)
    expected = effective_etag(request.etag, request.concurrency)
    ttl = parse_ttl(request.metadata) if isinstance(request, SetRequest) else None
    return expected, ttl


def must_be_absent(request: StateOperation) -> bool:
    """first-write without an ETag: the key must not exist yet."""
    return request.concurrency == FIRST_WRITE and not request.etag


async def run_each(store: StateStore, requests: Sequence[StateOperation]) -> None:
    """contrib's default BulkStore: every write on its own; the failures are collected, the rest applied."""
    failures: dict[str, StateStoreError] = {}
    for request in requests:
        try:
            if isinstance(request, SetRequest):
                await store.set(request)
            else:
                await store.delete(request)
        except StateStoreError as err:
            failures[request.key] = err
    if failures:
        raise BulkStoreError(failures)


class AtomicWriteStore(ABC):
    """A ``StateStore`` on a backend that applies a list of operations all or nothing: the writes are done here.

    ``set``, ``delete`` and ``multi`` are each one ``_write_atomically``; bulk writes run each on its own
    (``run_each``). Every store here has all of contrib's features; ``multi`` is unbounded unless overridden.
    """

    def features(self) -> frozenset[Feature]:
        return ALL_FEATURES

    def multi_max_size(self) -> int:
        return 0

    @abstractmethod
    async def get(self, key: str, consistency: str = "") -> StoredItem | None: ...

    @abstractmethod
    async def bulk_get(self, keys: Sequence[str]) -> list[BulkGetItem]: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def _write_atomically(self, operations: Sequence[StateOperation]) -> None:
        """Check every operation's preconditions, then apply all of them, or none (raising what failed)."""

    async def set(self, request: SetRequest) -> None:
        await self._write_atomically([request])

    async def delete(self, request: DeleteRequest) -> None:
        await self._write_atomically([request])

    async def bulk_set(self, requests: Sequence[SetRequest]) -> None:
        await run_each(self, requests)

    async def bulk_delete(self, requests: Sequence[DeleteRequest]) -> None:
        await run_each(self, requests)

    async def multi(self, operations: Sequence[StateOperation], metadata: Mapping[str, str] | None = None) -> None:
        if operations:
            await self._write_atomically(operations)

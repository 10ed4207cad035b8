"""``state.redis``: the ``StateStore`` contract on one redis server (components-contrib ``state/redis`` layout).

Metadata, with Dapr's names: ``redisHost`` (``host:port``, required), ``redisPassword``, ``redisUsername``,
``enableTLS``, ``redisDB``, ``ttlInSeconds`` (the default TTL of every write that gives none; a write's ``-1``
keeps its key forever). ``keyPrefix`` and ``actorStateStore`` are read by the sidecar, not here. Redis cluster and
sentinel are not supported. Reads and writes are the Lua scripts of ``redis_scripts``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from daprjobs.components.state import redis_scripts
from daprjobs.components.state.api import (
    TTL_METADATA_KEY,
    AtomicWriteStore,
    BulkGetItem,
    ETagError,
    SetRequest,
    StateOperation,
    StateStoreError,
    StoredItem,
    must_be_absent,
    parse_ttl,
    validate_write,
)
from daprjobs.components.state.ttl import expire_time_metadata


@dataclass(frozen=True)
class RedisStateSettings:
    host: str
    port: int
    password: str | None = field(default=None, repr=False)
    username: str | None = None
    tls: bool = False
    db: int = 0
    default_ttl_s: int | None = None

    @classmethod
    def from_metadata(cls, component: str, metadata: Mapping[str, str]) -> RedisStateSettings:
        def fail(key: str, why: str) -> ValueError:
            return ValueError(f"state component {component!r}: metadata {key}: {why}")

        address = metadata.get("redisHost", "").strip()
        if not address:
            raise fail("redisHost", "is required (host:port)")
        if "," in address or metadata.get("redisType", "node").lower() == "cluster" \
                or metadata.get("failover", "").lower() == "true":
            raise fail("redisHost", "Redis cluster and sentinel failover are not supported by daprjobs")
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise fail("redisHost", f"{address!r} is not host:port")
        db = metadata.get("redisDB", "").strip() or "0"
        if not db.isdigit():
            raise fail("redisDB", f"{db!r} is not a number")
        try:
            default_ttl = parse_ttl(metadata)
        except StateStoreError as err:
            raise fail(TTL_METADATA_KEY, str(err)) from None
        return cls(host=host, port=int(port), password=metadata.get("redisPassword") or None,
                   username=metadata.get("redisUsername") or None,
                   tls=metadata.get("enableTLS", "").strip().lower() == "true", db=int(db),
                   default_ttl_s=default_ttl)

    def client(self) -> aioredis.Redis:
        return aioredis.Redis(host=self.host, port=self.port, db=self.db, password=self.password,
                              username=self.username, ssl=self.tls, socket_connect_timeout=5)


class RedisStateStore(AtomicWriteStore):
    """One ``state.redis`` component; ``close`` closes the client it was given."""

    def __init__(self, client: aioredis.Redis, default_ttl_s: int | None = None) -> None:
        self._client = client
        self._default_ttl = default_ttl_s
        self._read = client.register_script(redis_scripts.READ)
        self._write = client.register_script(redis_scripts.WRITE)

    async def get(self, key: str, consistency: str = "") -> StoredItem | None:
        return (await self.bulk_get([key]))[0].item

    async def bulk_get(self, keys: Sequence[str]) -> list[BulkGetItem]:
        if not keys:
            return []
        try:
            rows = await self._read(keys=list(keys))
        except RedisError as err:
            raise StateStoreError(f"redis: {err}") from err
        now = time.time()
        out = []
        for key, row in zip(keys, rows, strict=True):
            if not row:
                out.append(BulkGetItem(key))
                continue
            data, version, pttl = row
            expires = now + int(pttl) / 1000 if int(pttl) > 0 else None
            out.append(BulkGetItem(key, StoredItem(bytes(data), bytes(version).decode(),
                                                   expire_time_metadata(expires))))
        return out

    def _ttl(self, request: SetRequest) -> int:
        if request.metadata.get(TTL_METADATA_KEY, "") != "":
            return parse_ttl(request.metadata) or 0
        return self._default_ttl or 0

    async def _write_atomically(self, operations: Sequence[StateOperation]) -> None:
        args: list[str | bytes] = []
        for op in operations:
            expected, _ = validate_write(op)
            is_set = isinstance(op, SetRequest)
            args += ["set" if is_set else "del", "" if expected is None else str(expected),
                     "1" if must_be_absent(op) else "0",
                     op.value if isinstance(op, SetRequest) else b"",
                     str(self._ttl(op)) if isinstance(op, SetRequest) else "0"]
        try:
            await self._write(keys=[op.key for op in operations], args=args)
        except ResponseError as err:
            text = str(err)
            if text.startswith(redis_scripts.ETAG_MISMATCH):
                raise ETagError(ETagError.MISMATCH, text.removeprefix(redis_scripts.ETAG_MISMATCH).strip()) \
                    from None
            raise StateStoreError(f"redis: {text}") from err
        except RedisError as err:
            raise StateStoreError(f"redis: {err}") from err

    async def close(self) -> None:
        await self._client.aclose()

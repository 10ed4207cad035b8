"""``state.etcd``: the ``StateStore`` contract on etcd (components-contrib ``state/etcd`` layout).

A key lives at ``<keyPrefixPath>/<store key>``; its ETag is the key's etcd mod revision. Every write is one etcd
transaction whose compares carry the preconditions (mod revision equal to the ETag, or the key absent for
first-write), so a check and its write cannot be separated by another writer — contrib reads first and writes
after. ``multi`` is one transaction for all operations: every compare at the top, so one failed precondition
writes nothing. A TTL is an etcd lease granted just before the write (one per distinct TTL), revoked again if the
write does not happen; a write without TTL detaches any earlier lease.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from daprjobs.components.state import etcd_value
from daprjobs.components.state.api import (
    AtomicWriteStore,
    BulkGetItem,
    ETagError,
    SetRequest,
    StateOperation,
    StateStoreError,
    StoredItem,
    must_be_absent,
    validate_write,
)
from daprjobs.etcd.api import Compare, RequestOp, Store, cmp_absent, cmp_mod_revision, op_delete, op_put
from daprjobs.etcd.tls_client import EtcdClientTls
from daprjobs.security.tls import TlsConfigError

log = logging.getLogger(__name__)

DEFAULT_MAX_TXN_OPS = 128


@dataclass(frozen=True)
class EtcdStateSettings:
    """The component's metadata: ``endpoints``, ``keyPrefixPath``, ``maxTxnOps``; ``version`` is the spec's."""

    endpoints: tuple[str, ...]
    key_prefix_path: str = ""
    max_txn_ops: int = DEFAULT_MAX_TXN_OPS
    version: str = "v2"
    # ``tlsEnable: "true"`` with ``ca``/``cert``/``key`` PEM text (contrib's names); None is plaintext.
    tls: EtcdClientTls | None = None

    @classmethod
    def from_metadata(cls, component: str, metadata: Mapping[str, str], version: str,
                      fallback_endpoints: Sequence[str]) -> EtcdStateSettings:
        endpoints = tuple(e.strip() for e in metadata.get("endpoints", "").split(",") if e.strip())
        max_ops_text = metadata.get("maxTxnOps", "").strip() or str(DEFAULT_MAX_TXN_OPS)
        if not max_ops_text.isdigit():
            raise ValueError(f"state component {component!r}: metadata maxTxnOps: {max_ops_text!r} is not a number")
        return cls(endpoints=endpoints or tuple(fallback_endpoints),
                   key_prefix_path=metadata.get("keyPrefixPath", "").strip(),
                   max_txn_ops=int(max_ops_text), version="v1" if version == "v1" else "v2",
                   tls=_tls_from_metadata(component, metadata))


def _tls_from_metadata(component: str, metadata: Mapping[str, str]) -> EtcdClientTls | None:
    if metadata.get("tlsEnable", "").strip().lower() != "true":
        return None

    def pem(key: str) -> bytes | None:
        value = metadata.get(key, "").strip()
        return value.encode() if value else None

    try:
        return EtcdClientTls(ca_pem=pem("ca"), cert_pem=pem("cert"), key_pem=pem("key"))
    except TlsConfigError as exc:
        raise ValueError(f"state component {component!r}: metadata cert/key: {exc}") from None


class EtcdStateStore(AtomicWriteStore):
    """One ``state.etcd`` component on an etcd ``Store``; ``close`` closes that store."""

    def __init__(self, store: Store, key_prefix_path: str = "", *, version: str = "v2",
                 max_txn_ops: int = DEFAULT_MAX_TXN_OPS) -> None:
        self._store = store
        self._prefix = key_prefix_path
        self._version = version
        self._max_txn_ops = max_txn_ops

    def multi_max_size(self) -> int:
        return self._max_txn_ops

    def etcd_key(self, key: str) -> bytes:
        """contrib's ``keyPrefixPath + "/" + key``."""
        return f"{self._prefix}/{key}".encode()

    async def get(self, key: str, consistency: str = "") -> StoredItem | None:
        try:
            kv = await self._store.get(self.etcd_key(key))
        except Exception as err:
            raise StateStoreError(f"couldn't get key {self._prefix}/{key}: {err}") from err
        if kv is None:
            return None
        data, metadata = etcd_value.decode(bytes(kv.value), self._version)
        return StoredItem(data, str(kv.mod_revision), metadata)

    async def bulk_get(self, keys: Sequence[str]) -> list[BulkGetItem]:
        try:
            found = await self._store.get_many([self.etcd_key(k) for k in keys])
        except Exception as err:
            raise StateStoreError(f"couldn't get keys: {err}") from err
        out = []
        for key in keys:
            kv = found.get(self.etcd_key(key))
            if kv is None:
                out.append(BulkGetItem(key))
                continue
            data, metadata = etcd_value.decode(bytes(kv.value), self._version)
            out.append(BulkGetItem(key, StoredItem(data, str(kv.mod_revision), metadata)))
        return out

    def _compare(self, request: StateOperation, expected: int | None) -> Compare | None:
        if expected is not None:
            return cmp_mod_revision(self.etcd_key(request.key), expected)
        if must_be_absent(request):
            return cmp_absent(self.etcd_key(request.key))
        return None

    async def _write_atomically(self, operations: Sequence[StateOperation]) -> None:
        checked = [(op, *validate_write(op)) for op in operations]
        compares = [c for op, expected, _ in checked if (c := self._compare(op, expected)) is not None]
        leases = await self._grant_leases({ttl for _, _, ttl in checked if ttl})
        # etcd refuses a transaction that writes one key twice: the last operation on a key is what counts.
        last = {op.key: (op, ttl) for op, _, ttl in checked}
        requests: list[RequestOp] = []
        for op, ttl in last.values():
            key = self.etcd_key(op.key)
            if isinstance(op, SetRequest):
                requests.append(op_put(key, etcd_value.encode(op.value, ttl, self._version), leases.get(ttl or 0, 0)))
            else:
                requests.append(op_delete(key))
        try:
            succeeded, _ = await self._store.txn(compares, requests)
        except Exception as err:
            await self._revoke(leases.values())
            raise StateStoreError(f"couldn't write to etcd: {err}") from err
        if not succeeded:
            await self._revoke(leases.values())
            raise ETagError(ETagError.MISMATCH, await self._mismatch_detail(checked))

    async def _mismatch_detail(self, checked: Sequence[tuple[StateOperation, int | None, int | None]]) -> str:
        """Which precondition failed, in contrib's words (read after the fact: only for the message)."""
        for op, expected, _ in checked:
            if expected is None and not must_be_absent(op):
                continue
            try:
                kv = await self._store.get(self.etcd_key(op.key))
            except Exception:
                return f"precondition failed for key={op.key}"
            if expected is None and kv is not None:
                return "item already exists and no etag was passed"
            if expected is not None and kv is None:
                return f"state not exist or expired for key={op.key}"
            if expected is not None and kv is not None and kv.mod_revision != expected:
                return f"state etag not match for key={op.key}: current={kv.mod_revision}, expect={expected}"
        return "a precondition of the transaction failed"

    async def _grant_leases(self, ttls: Iterable[int]) -> dict[int, int]:
        leases: dict[int, int] = {}
        try:
            for ttl in sorted(ttls):
                leases[ttl] = await self._store.grant_lease(ttl)
        except Exception as err:
            await self._revoke(leases.values())
            raise StateStoreError(f"couldn't grant a lease: {err}") from err
        return leases

    async def _revoke(self, lease_ids: Iterable[int]) -> None:
        for lease_id in list(lease_ids):
            try:
                await self._store.revoke_lease(lease_id)
            except Exception as err:  # the lease then simply expires
                log.info("could not revoke an unused etcd lease lease=%x error=%s", lease_id, err)

    async def close(self) -> None:
        await self._store.close()

"""Actor placement in etcd: which sidecar runs which actor id.

Design (replaces Dapr's placement service):
- Every sidecar that hosts actor types writes ``<root>/<namespace>/<actor type>/<host address>`` for each type,
  all attached to one etcd lease of ``lease_ttl_s`` that it keeps alive (``daprjobs.etcd.leased_registry``). A
  sidecar that stops revokes its lease (its actors move at once); one that dies stops refreshing and etcd drops
  its keys after at most the TTL.
- Every sidecar watches the prefix and keeps the same table: actor type → live host addresses.
- An actor id belongs to the host with the highest rendezvous score ``hash(type, id, host)``. Every sidecar
  computes the same owner from the same table, and a host leaving moves only its own actors.
- A host that refuses a forwarded call is *suspected* by the caller and skipped for a lease period (unless its
  registration changes), so a killed sidecar's actors move on before etcd notices it is gone.
The table math (``PlacementTable``, ``rendezvous_owner``) is pure; ``PlacementRegistry`` says what a registration
holds and ``LeasedRegistry`` does the etcd I/O.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable

from daprjobs.etcd.leased_registry import LeasedRegistry, RegistrationTable
from daprjobs.etcd.store import EtcdStore, op_delete, op_put

log = logging.getLogger(__name__)

DEFAULT_ROOT = "daprjobs/actors/placement"
DEFAULT_LEASE_TTL_S = 10


def _score(actor_type: str, actor_id: str, host: str) -> int:
    digest = hashlib.blake2b(f"{actor_type}||{actor_id}||{host}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rendezvous_owner(hosts: Iterable[str], actor_type: str, actor_id: str) -> str | None:
    """The host with the highest score for this actor (ties broken by address); None without hosts."""
    best: tuple[int, str] | None = None
    for host in hosts:
        candidate = (_score(actor_type, actor_id, host), host)
        if best is None or candidate > best:
            best = candidate
    return best[1] if best is not None else None


class PlacementTable(RegistrationTable[str]):
    """actor type → {host address → mod revision of its registration}, plus local suspicions."""

    def owner(self, actor_type: str, actor_id: str, now: float) -> str | None:
        return rendezvous_owner(self.live(actor_type, now), actor_type, actor_id)

    def snapshot(self) -> dict[str, list[str]]:
        return {t: sorted(hosts) for t, hosts in self.members.items()}


def parse_key(root: str, namespace: str, key: bytes) -> tuple[str, str] | None:
    """``<root>/<ns>/<type>/<host>`` → (type, host)."""
    prefix = f"{root}/{namespace}/"
    text = key.decode("utf-8", errors="replace")
    if not text.startswith(prefix):
        return None
    rest = text[len(prefix):]
    actor_type, sep, host = rest.partition("/")
    if not sep or not actor_type or not host:
        return None
    return actor_type, host


class PlacementRegistry(LeasedRegistry[PlacementTable]):
    """This sidecar's registration plus the namespace's placement table, kept current from etcd."""

    def __init__(
        self,
        store: EtcdStore,
        namespace: str,
        app_id: str,
        address: str,
        lease_ttl_s: int = DEFAULT_LEASE_TTL_S,
        root: str = DEFAULT_ROOT,
        on_change: Callable[[], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._root = root.rstrip("/")
        super().__init__(store, f"{self._root}/{namespace}/".encode(), PlacementTable(), lease_ttl_s,
                         what="placement", log_context=f"address={address}")
        self._namespace = namespace
        self._app_id = app_id
        self.address = address
        self._on_change = on_change
        self._monotonic = monotonic
        self._types: list[str] = []
        self._registered = asyncio.Event()
        self._changed = asyncio.Event()

    def _key(self, actor_type: str) -> bytes:
        return f"{self._root}/{self._namespace}/{actor_type}/{self.address}".encode()

    def _parse_key(self, key: bytes) -> tuple[str, str] | None:
        return parse_key(self._root, self._namespace, key)

    def _registers_without_lease(self) -> bool:
        # Registration happens in set_types, whose caller sees a failed lease grant; the keepalive loop only
        # renews (or replaces) a lease set_types got.
        return False

    async def set_types(self, types: Iterable[str]) -> None:
        """Register this host for exactly these actor types (an empty list unregisters it)."""
        async with self._lock:
            new = sorted(set(types))
            old = self._types
            self._types = new
            if not new and not old:
                return
            if new:
                await self._lease()
            await self._write_types(removed=[t for t in old if t not in new])
        self._registered.set()

    async def _write_registration(self) -> None:
        await self._write_types(removed=[])

    async def _write_types(self, removed: list[str]) -> None:
        value = json.dumps({"address": self.address, "appId": self._app_id}).encode()
        ops = [op_put(self._key(t), value, self._lease_id) for t in self._types]
        ops += [op_delete(self._key(t)) for t in removed]
        if not ops:
            return
        _, resp = await self._store.txn([], ops)
        revision = int(resp.header.revision)  # type: ignore[attr-defined]
        for t in self._types:
            self._table.put(t, self.address, revision)
        for t in removed:
            self._table.delete(t, self.address)
        self._notify()

    def owner(self, actor_type: str, actor_id: str) -> str | None:
        return self._table.owner(actor_type, actor_id, self._monotonic())

    def is_local(self, actor_type: str, actor_id: str) -> bool:
        return self.owner(actor_type, actor_id) == self.address

    def hosts(self, actor_type: str) -> list[str]:
        return self._table.live(actor_type, self._monotonic())

    def snapshot(self) -> dict[str, list[str]]:
        return self._table.snapshot()

    def suspect(self, actor_type: str, host: str) -> None:
        """Skip ``host`` for this type for one lease period (it refused a forwarded call)."""
        if host == self.address:
            return
        log.warning("placement host suspected actor_type=%s host=%s", actor_type, host)
        self._table.suspect(actor_type, host, self._monotonic() + self._lease_ttl_s)
        self._notify()

    async def wait_for_host(self, actor_type: str, timeout: float) -> bool:
        """Wait until some live host is known for ``actor_type``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.hosts(actor_type):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), min(remaining, 0.5))
            except TimeoutError:
                pass
        return True

    def _mirror_changed(self) -> None:
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
        if self._on_change is not None:
            try:
                self._on_change()
            except Exception:
                log.exception("placement change handler failed")

"""Actor placement in etcd: which sidecar runs which actor id.

Design (replaces Dapr's placement service):
- Every sidecar that hosts actor types writes ``<root>/<namespace>/<actor type>/<host address>`` for each type,
  all attached to one etcd lease of ``lease_ttl_s`` that it keeps alive. A sidecar that stops revokes its lease
  (its actors move at once); one that dies stops refreshing and etcd drops its keys after at most the TTL.
- Every sidecar watches the prefix and keeps the same table: actor type → live host addresses.
- An actor id belongs to the host with the highest rendezvous score ``hash(type, id, host)``. Every sidecar
  computes the same owner from the same table, and a host leaving moves only its own actors.
- A host that refuses a forwarded call is *suspected* by the caller and skipped for a lease period (unless its
  registration changes), so a killed sidecar's actors move on before etcd notices it is gone.
The table math (``PlacementTable``, ``rendezvous_owner``) is pure; ``PlacementRegistry`` does the etcd I/O.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from daprjobs.etcd.store import EtcdStore, WatchCompacted, op_delete, op_put

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


@dataclass
class PlacementTable:
    """actor type → {host address → mod revision of its registration}, plus local suspicions."""

    hosts: dict[str, dict[str, int]] = field(default_factory=dict)
    # (type, host) → (registration revision when suspected, monotonic deadline)
    suspects: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)

    def put(self, actor_type: str, host: str, revision: int) -> None:
        self.hosts.setdefault(actor_type, {})[host] = revision

    def delete(self, actor_type: str, host: str) -> None:
        by_host = self.hosts.get(actor_type)
        if by_host is not None:
            by_host.pop(host, None)
            if not by_host:
                del self.hosts[actor_type]
        self.suspects.pop((actor_type, host), None)

    def suspect(self, actor_type: str, host: str, until: float) -> None:
        revision = self.hosts.get(actor_type, {}).get(host)
        if revision is not None:
            self.suspects[(actor_type, host)] = (revision, until)

    def live_hosts(self, actor_type: str, now: float) -> list[str]:
        live = []
        for host, revision in self.hosts.get(actor_type, {}).items():
            suspicion = self.suspects.get((actor_type, host))
            if suspicion is not None:
                suspected_revision, until = suspicion
                if suspected_revision == revision and now < until:
                    continue
                del self.suspects[(actor_type, host)]
            live.append(host)
        return sorted(live)

    def owner(self, actor_type: str, actor_id: str, now: float) -> str | None:
        return rendezvous_owner(self.live_hosts(actor_type, now), actor_type, actor_id)

    def snapshot(self) -> dict[str, list[str]]:
        return {t: sorted(hosts) for t, hosts in self.hosts.items()}


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


class PlacementRegistry:
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
        self._store = store
        self._namespace = namespace
        self._app_id = app_id
        self.address = address
        self._lease_ttl_s = max(1, lease_ttl_s)
        self._root = root.rstrip("/")
        self._on_change = on_change
        self._monotonic = monotonic
        self._table = PlacementTable()
        self._types: list[str] = []
        self._lease_id = 0
        self._registered = asyncio.Event()
        self._synced = asyncio.Event()
        self._changed = asyncio.Event()
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    @property
    def lease_ttl_s(self) -> int:
        return self._lease_ttl_s

    @property
    def synced(self) -> bool:
        """The table has been read from etcd at least once."""
        return self._synced.is_set()

    def _prefix(self) -> bytes:
        return f"{self._root}/{self._namespace}/".encode()

    def _key(self, actor_type: str) -> bytes:
        return f"{self._root}/{self._namespace}/{actor_type}/{self.address}".encode()

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._watch_loop(), name="placement watch"),
            asyncio.create_task(self._keepalive_loop(), name="placement keepalive"),
        ]

    async def stop(self) -> None:
        """Leave at once: revoke the lease so the other hosts take this host's actors now."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._lease_id:
            try:
                await self._store.revoke_lease(self._lease_id)
            except Exception as err:
                log.warning("placement lease revoke failed address=%s error=%s", self.address, err)
            self._lease_id = 0

    async def set_types(self, types: Iterable[str]) -> None:
        """Register this host for exactly these actor types (an empty list unregisters it)."""
        async with self._lock:
            new = sorted(set(types))
            old = self._types
            self._types = new
            if not new and not old:
                return
            if not self._lease_id and new:
                self._lease_id = await self._store.grant_lease(self._lease_ttl_s)
            await self._write_registration(removed=[t for t in old if t not in new])
        self._registered.set()

    async def _write_registration(self, removed: list[str]) -> None:
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
        return self._table.live_hosts(actor_type, self._monotonic())

    def snapshot(self) -> dict[str, list[str]]:
        return self._table.snapshot()

    def suspect(self, actor_type: str, host: str) -> None:
        """Skip ``host`` for this type for one lease period (it refused a forwarded call)."""
        if host == self.address:
            return
        log.warning("placement host suspected actor_type=%s host=%s", actor_type, host)
        self._table.suspect(actor_type, host, self._monotonic() + self._lease_ttl_s)
        self._notify()

    async def wait_synced(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except TimeoutError:
            return False
        return True

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

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
        if self._on_change is not None:
            try:
                self._on_change()
            except Exception:
                log.exception("placement change handler failed")

    async def _watch_loop(self) -> None:
        prefix = self._prefix()
        while not self._stopping:
            try:
                revision = 0
                table = PlacementTable(suspects=self._table.suspects)
                async for rev, kvs in self._store.range_prefix(prefix):
                    revision = rev
                    for kv in kvs:
                        parsed = parse_key(self._root, self._namespace, kv.key)
                        if parsed is not None:
                            table.put(parsed[0], parsed[1], kv.mod_revision)
                self._table = table
                self._synced.set()
                self._notify()
                async for _, events in self._store.watch_prefix(prefix, revision + 1, prev_kv=False):
                    for event in events:
                        parsed = parse_key(self._root, self._namespace, event.kv.key)
                        if parsed is None:
                            continue
                        if event.is_put:
                            self._table.put(parsed[0], parsed[1], event.kv.mod_revision)
                        else:
                            self._table.delete(parsed[0], parsed[1])
                    if events:
                        self._notify()
            except asyncio.CancelledError:
                raise
            except WatchCompacted:
                continue
            except Exception as err:
                log.warning("placement watch failed, resyncing error=%s", err)
                await asyncio.sleep(0.5)

    async def _keepalive_loop(self) -> None:
        interval = max(0.2, self._lease_ttl_s / 3)
        while not self._stopping:
            await asyncio.sleep(interval)
            try:
                async with self._lock:
                    if not self._lease_id:
                        continue
                    ttl = await self._store.keepalive_once(self._lease_id)
                    if ttl <= 0:
                        # The lease expired (etcd unreachable for too long): register again under a new one.
                        log.warning("placement lease lost, registering again address=%s", self.address)
                        self._lease_id = await self._store.grant_lease(self._lease_ttl_s)
                        await self._write_registration(removed=[])
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.warning("placement keepalive failed address=%s error=%s", self.address, err)

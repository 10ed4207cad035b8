"""Registrations kept in etcd under a lease, and the table every process mirrors from them.

How sidecars find each other without a central service (service-invocation name resolution, actor placement):

- Each process writes its own keys under one etcd lease that it keeps alive, and revokes the lease when it stops,
  so its keys go at once. A process that dies stops refreshing and etcd drops its keys after at most the TTL; one
  whose lease expired (etcd unreachable too long) writes its keys again under a new lease.
- Each process mirrors the whole prefix into a ``RegistrationTable``: group → {member → mod revision}. It reads the
  prefix, follows the watch from the next revision, and reads it all again after a compaction or a failure.
- A member that refuses a call is *suspected* by the caller: skipped until a deadline unless its registration
  changes (a restarted process registers again, which writes a new revision), so callers move on before etcd
  notices it is gone.

``RegistrationTable`` is pure; ``LeasedRegistry`` does the etcd I/O and leaves the key layout, the registration
value and what the table means to its subclasses.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, Self, TypeVar

from daprjobs.etcd.api import KeyValue, WatchCompacted, WatchEvent
from daprjobs.etcd.store import EtcdStore

log = logging.getLogger(__name__)

G = TypeVar("G", bound=Hashable)


@dataclass
class RegistrationTable(Generic[G]):
    """group → {member → mod revision of its registration}, plus this process's suspicions."""

    members: dict[G, dict[str, int]] = field(default_factory=dict)
    # (group, member) → (registration revision when suspected, monotonic deadline)
    suspects: dict[tuple[G, str], tuple[int, float]] = field(default_factory=dict)

    def put(self, group: G, member: str, revision: int, value: bytes = b"") -> None:
        """Record a registration (``value`` is its etcd value, for tables that read more than the key)."""
        self.members.setdefault(group, {})[member] = revision

    def delete(self, group: G, member: str) -> None:
        by_member = self.members.get(group)
        if by_member is not None:
            by_member.pop(member, None)
            if not by_member:
                del self.members[group]
        self.suspects.pop((group, member), None)

    def suspect(self, group: G, member: str, until: float) -> None:
        revision = self.members.get(group, {}).get(member)
        if revision is not None:
            self.suspects[(group, member)] = (revision, until)

    def live(self, group: G, now: float) -> list[str]:
        """The group's members, sorted, without those suspected since their current registration."""
        result = []
        for member, revision in self.members.get(group, {}).items():
            suspicion = self.suspects.get((group, member))
            if suspicion is not None:
                suspected_revision, until = suspicion
                if suspected_revision == revision and now < until:
                    continue
                del self.suspects[(group, member)]
            result.append(member)
        return sorted(result)

    def emptied(self) -> Self:
        """A table with no registrations that keeps this one's local state (for a fresh read from etcd)."""
        return type(self)(suspects=self.suspects)


T = TypeVar("T", bound=RegistrationTable[Any])


class LeasedRegistry(ABC, Generic[T]):
    """This process's registration under an etcd lease, plus ``_table`` mirrored from every key under ``prefix``.

    Subclasses write their keys in ``_write_registration`` (with ``_lock`` held, under ``_lease_id``), say how a
    key reads in ``_parse_key`` and may react to changes in ``_mirror_changed``. ``what`` names the registry in logs
    and ``log_context`` (``key=value`` pairs) names this process.
    """

    def __init__(self, store: EtcdStore, prefix: bytes, table: T, lease_ttl_s: int, what: str,
                 log_context: str) -> None:
        self._store = store
        self._prefix = prefix
        self._table = table
        self._lease_ttl_s = max(1, lease_ttl_s)
        self._what = what
        self._log_context = log_context
        self._lease_id = 0
        self._synced = asyncio.Event()
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

    async def wait_synced(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._watch_loop(), name=f"{self._what} watch"),
            asyncio.create_task(self._keepalive_loop(), name=f"{self._what} keepalive"),
        ]

    async def stop(self) -> None:
        """Leave at once: revoke the lease so every other process drops this one's keys now."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._lease_id:
            try:
                await self._store.revoke_lease(self._lease_id)
            except Exception as err:
                log.warning("%s lease revoke failed %s error=%s", self._what, self._log_context, err)
            self._lease_id = 0

    async def _lease(self) -> int:
        """The lease to write under, granted now if there is none (call with ``_lock`` held)."""
        if not self._lease_id:
            self._lease_id = await self._store.grant_lease(self._lease_ttl_s)
        return self._lease_id

    @abstractmethod
    async def _write_registration(self) -> None:
        """Write this process's keys under ``_lease_id`` (called with ``_lock`` held, also after a lost lease)."""

    @abstractmethod
    def _parse_key(self, key: bytes) -> tuple[Any, str] | None:
        """A key under the prefix → (group, member); None for a key that is not a registration."""

    def _registers_without_lease(self) -> bool:
        """Whether the keepalive loop registers a process that holds no lease (its first registration failed)."""
        return True

    def _mirror_changed(self) -> None:
        """Called after the table is read again and after each batch of watched changes."""

    async def _watch_loop(self) -> None:
        while not self._stopping:
            try:
                revision = 0
                table = self._table.emptied()
                async for rev, kvs in self._store.range_prefix(self._prefix):
                    revision = rev
                    for kv in kvs:
                        self._record(table, kv)
                self._table = table
                self._synced.set()
                self._mirror_changed()
                async for _, events in self._store.watch_prefix(self._prefix, revision + 1, prev_kv=False):
                    self._apply(events)
                    if events:
                        self._mirror_changed()
            except asyncio.CancelledError:
                raise
            except WatchCompacted:
                continue
            except Exception as err:
                log.warning("%s watch failed, resyncing error=%s", self._what, err)
                await asyncio.sleep(0.5)

    def _record(self, table: T, kv: KeyValue) -> None:
        parsed = self._parse_key(kv.key)
        if parsed is not None:
            table.put(parsed[0], parsed[1], kv.mod_revision, kv.value)

    def _apply(self, events: list[WatchEvent]) -> None:
        for event in events:
            if event.is_put:
                self._record(self._table, event.kv)
                continue
            parsed = self._parse_key(event.kv.key)
            if parsed is not None:
                self._table.delete(parsed[0], parsed[1])

    async def _keepalive_loop(self) -> None:
        interval = max(0.2, self._lease_ttl_s / 3)
        while not self._stopping:
            await asyncio.sleep(interval)
            try:
                async with self._lock:
                    if self._lease_id:
                        ttl = await self._store.keepalive_once(self._lease_id)
                    elif self._registers_without_lease():
                        ttl = 0
                    else:
                        continue
                    if ttl <= 0:
                        # Never registered, or the lease expired (etcd unreachable too long): register again.
                        log.warning("%s lease lost, registering again %s", self._what, self._log_context)
                        self._lease_id = await self._store.grant_lease(self._lease_ttl_s)
                        await self._write_registration()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.warning("%s keepalive failed %s error=%s", self._what, self._log_context, err)

"""Replica membership in etcd: one leased key per live replica.

Each replica holds ``<prefix>/leadership/<id>`` under its own lease. The value
(a Leadership record) carries its uid, its advertised address (for WatchHosts)
and the member view it currently partitions by (see daprjobs.core.partition). The
key vanishes when the lease is revoked (graceful stop) or expires (crash), which
is how the others learn a replica is gone.

If this replica cannot renew its lease for most of the TTL it *fences itself*
(stops triggering) before the others can take its jobs over, and it re-joins
with a new lease once etcd answers again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass

from google.protobuf import any_pb2

from daprjobs.etcd.api import Store, cmp_absent, cmp_value, op_put
from daprjobs.etcd.failures import describe
from daprjobs.etcd.keyspace import Keyspace
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.proto.stored.v1 import stored_pb2

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Member:
    replica_id: str
    uid: int
    address: str
    view: tuple[str, ...]


def _decode(replica_id: str, value: bytes) -> Member:
    rec = stored_pb2.Leadership.FromString(value)
    address = ""
    if rec.HasField("replica_data"):
        host = scheduler_pb2.Host()
        if rec.replica_data.Unpack(host):
            address = host.address
    return Member(replica_id, rec.uid, address, tuple(rec.view))


class Membership:
    def __init__(self, store: Store, keys: Keyspace, replica_id: str, address: str, lease_ttl_s: int) -> None:
        self._store = store
        self._keys = keys
        self.replica_id = replica_id
        self.address = address
        self.lease_ttl_s = lease_ttl_s
        self.uid = random.getrandbits(63)
        self.members: dict[str, Member] = {}
        self.changed = asyncio.Event()
        self.fenced = True
        self._lease = 0
        self._value = b""
        self._key = keys.leadership(replica_id)
        self._last_renewal = 0.0
        self._tasks: list[asyncio.Task[None]] = []

    def _record(self, view: tuple[str, ...]) -> bytes:
        data = any_pb2.Any()
        data.Pack(scheduler_pb2.Host(address=self.address))
        rec = stored_pb2.Leadership(total=max(1, len(view)), uid=self.uid, replica_data=data, view=list(view))
        return rec.SerializeToString()

    async def join(self) -> None:
        """Create this replica's key under a fresh lease, waiting out an old holder of the same id."""
        waited = False
        while True:
            self._lease = await self._store.grant_lease(self.lease_ttl_s)
            value = self._record(())
            ok, _ = await self._store.txn([cmp_absent(self._key)], [op_put(self._key, value, self._lease)])
            if ok:
                self._value = value
                self._last_renewal = time.monotonic()
                self.fenced = False
                log.info("joined membership replica=%s address=%s lease_ttl=%ds", self.replica_id, self.address,
                         self.lease_ttl_s)
                await self.refresh()
                return
            await self._store.revoke_lease(self._lease)
            if not waited:
                log.warning("replica id %s is still held (old lease not expired yet); waiting", self.replica_id)
                waited = True
            await asyncio.sleep(min(1.0, self.lease_ttl_s / 4))

    async def publish_view(self, view: tuple[str, ...]) -> None:
        value = self._record(view)
        ok, _ = await self._store.txn([cmp_value(self._key, self._value)], [op_put(self._key, value, self._lease)])
        if not ok:
            raise RuntimeError(f"membership key of replica {self.replica_id} changed under it")
        self._value = value
        log.info("published view replica=%s view=%s", self.replica_id, ",".join(view))

    async def refresh(self) -> int:
        """Re-read every member; returns the etcd revision read at."""
        members: dict[str, Member] = {}
        revision = 0
        async for revision, kvs in self._store.range_prefix(self._keys.leadership_prefix):  # noqa: B007
            for kv in kvs:
                rid = self._keys.replica_id(kv.key)
                try:
                    members[rid] = _decode(rid, kv.value)
                except Exception:
                    log.exception("undecodable membership record replica=%s", rid)
        if members != self.members:
            self.members = members
            self.changed.set()
        return revision

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._keepalive_loop()), asyncio.create_task(self._watch_loop())]

    async def leave(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.fenced = True
        if self._lease:
            try:
                await self._store.revoke_lease(self._lease)
                log.info("left membership replica=%s", self.replica_id)
            except Exception:
                log.exception("could not revoke lease on leave replica=%s", self.replica_id)
            self._lease = 0

    async def _keepalive_loop(self) -> None:
        interval = max(0.2, self.lease_ttl_s / 4)
        # Stop triggering well before the lease can have expired in etcd.
        fence_after = self.lease_ttl_s * 0.6
        while True:
            await asyncio.sleep(interval)
            try:
                # Bounded by the renewal interval: a stalled etcd (SIGSTOP) must not hold the loop past the
                # moment it has to fence.
                ttl = await asyncio.wait_for(self._store.keepalive_once(self._lease), timeout=interval)
                if ttl <= 0:
                    log.error("membership lease lost replica=%s; re-joining", self.replica_id)
                    self._fence()
                    await self.join()
                    self.changed.set()
                    continue
                self._last_renewal = time.monotonic()
                if self.fenced:
                    log.info("lease renewed again, resuming replica=%s", self.replica_id)
                    self.fenced = False
                    self.changed.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("lease renewal failed replica=%s reason=%s", self.replica_id, describe(exc))
                if not self.fenced and time.monotonic() - self._last_renewal > fence_after:
                    log.error("cannot renew lease for %.1fs, fencing replica=%s", fence_after, self.replica_id)
                    self._fence()
                try:
                    await self._store.rotate()
                except Exception as rotate_exc:
                    log.debug("etcd reconnect failed: %s", rotate_exc)

    def _fence(self) -> None:
        self.fenced = True
        self.changed.set()

    async def _watch_loop(self) -> None:
        while True:
            try:
                revision = await self.refresh()
                async for _rev, _events in self._store.watch_prefix(self._keys.leadership_prefix, revision + 1,
                                                                     prev_kv=False):
                    await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("membership watch failed, retrying: %s", exc)
                await asyncio.sleep(0.5)

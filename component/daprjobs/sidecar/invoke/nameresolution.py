"""Name resolution for service invocation: which sidecars serve an app id, kept in the etcd the sidecars share.

Replaces daprd's mDNS resolver for self-hosted mode:

- Every sidecar with an app id writes ``<root>/<namespace>/<app id>/<address>`` (its sidecar-to-sidecar address)
  under an etcd lease it keeps alive, and revokes the lease when it stops, so its entry goes at once. A sidecar
  that dies stops refreshing and etcd drops the entry after at most the lease TTL.
- Every sidecar watches the whole prefix (all namespaces: ``app.namespace`` ids reach other namespaces) and keeps
  a table (namespace, app id) → live addresses. ``pick`` goes round robin over them.
- An address that refuses a call is *suspected*: skipped for one lease TTL unless its registration changes (a
  restarted sidecar registers again, which writes a new revision), so calls move on before etcd notices.

``AddressTable`` is pure; ``AppRegistry`` does the etcd I/O.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from daprjobs.etcd.store import EtcdStore, WatchCompacted, op_put

log = logging.getLogger(__name__)

DEFAULT_ROOT = "daprjobs/invoke/apps"
DEFAULT_LEASE_TTL_S = 10

AppKey = tuple[str, str]  # (namespace, app id)


@dataclass
class AddressTable:
    """(namespace, app id) → {address → registration revision}, local suspicions and round-robin cursors."""

    addresses: dict[AppKey, dict[str, int]] = field(default_factory=dict)
    # (namespace, app id, address) → (registration revision when suspected, monotonic deadline)
    suspects: dict[tuple[str, str, str], tuple[int, float]] = field(default_factory=dict)
    cursors: dict[AppKey, int] = field(default_factory=dict)
    # sidecar (HTTP) address → its gRPC API address, for gRPC proxying
    grpc_addresses: dict[str, str] = field(default_factory=dict)

    def put(self, app: AppKey, address: str, revision: int, grpc_address: str = "") -> None:
        self.addresses.setdefault(app, {})[address] = revision
        if grpc_address:
            self.grpc_addresses[address] = grpc_address

    def delete(self, app: AppKey, address: str) -> None:
        by_address = self.addresses.get(app)
        if by_address is not None:
            by_address.pop(address, None)
            if not by_address:
                del self.addresses[app]
        self.suspects.pop((*app, address), None)

    def suspect(self, app: AppKey, address: str, until: float) -> None:
        revision = self.addresses.get(app, {}).get(address)
        if revision is not None:
            self.suspects[(*app, address)] = (revision, until)

    def live(self, app: AppKey, now: float) -> list[str]:
        result = []
        for address, revision in self.addresses.get(app, {}).items():
            suspicion = self.suspects.get((*app, address))
            if suspicion is not None:
                suspected_revision, until = suspicion
                if suspected_revision == revision and now < until:
                    continue
                del self.suspects[(*app, address)]
            result.append(address)
        return sorted(result)

    def known(self, app: AppKey) -> bool:
        return bool(self.addresses.get(app))

    def pick(self, app: AppKey, now: float, exclude: frozenset[str] = frozenset()) -> str | None:
        """The next live address of ``app`` in round-robin order, skipping ``exclude``; None if none is left.

        When every registered address is suspected they are tried anyway: a suspicion may be wrong, and an
        app with one instance must not become unreachable for a lease period after one failed call.
        """
        candidates = [a for a in self.live(app, now) if a not in exclude]
        if not candidates:
            candidates = sorted(a for a in self.addresses.get(app, {}) if a not in exclude)
        if not candidates:
            return None
        cursor = self.cursors.get(app, 0)
        self.cursors[app] = cursor + 1
        return candidates[cursor % len(candidates)]


def grpc_address_of(value: bytes) -> str:
    """The ``grpcAddress`` of a registration value ("" when absent or unreadable)."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return ""
    address = parsed.get("grpcAddress") if isinstance(parsed, dict) else None
    return address if isinstance(address, str) else ""


def parse_key(root: str, key: bytes) -> tuple[AppKey, str] | None:
    """``<root>/<namespace>/<app id>/<address>`` → ((namespace, app id), address)."""
    text = key.decode("utf-8", errors="replace")
    prefix = root + "/"
    if not text.startswith(prefix):
        return None
    parts = text[len(prefix):].split("/", 2)
    if len(parts) != 3 or not all(parts):
        return None
    namespace, app_id, address = parts
    return (namespace, app_id), address


class AppRegistry:
    """This sidecar's registration plus every app's addresses, kept current from etcd."""

    def __init__(
        self,
        store: EtcdStore,
        namespace: str,
        app_id: str,
        address: str,
        lease_ttl_s: int = DEFAULT_LEASE_TTL_S,
        root: str = DEFAULT_ROOT,
        monotonic: Callable[[], float] = time.monotonic,
        grpc_address: str = "",
    ) -> None:
        self._store = store
        self.namespace = namespace
        self.app_id = app_id
        self.address = address
        self.grpc_address = grpc_address
        self._lease_ttl_s = max(1, lease_ttl_s)
        self._root = root.rstrip("/")
        self._monotonic = monotonic
        self._table = AddressTable()
        self._lease_id = 0
        self._synced = asyncio.Event()
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def _key(self) -> bytes:
        return f"{self._root}/{self.namespace}/{self.app_id}/{self.address}".encode()

    async def start(self) -> None:
        """Register (a failure is logged and retried by the keepalive loop) and start watching."""
        try:
            await self._register()
        except Exception as err:
            log.warning("service invocation registration failed, retrying app_id=%s address=%s error=%s",
                        self.app_id, self.address, err)
        self._tasks = [
            asyncio.create_task(self._watch_loop(), name="invoke name resolution watch"),
            asyncio.create_task(self._keepalive_loop(), name="invoke name resolution keepalive"),
        ]

    async def stop(self) -> None:
        """Withdraw at once: revoke the lease so callers stop choosing this sidecar now."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._lease_id:
            try:
                await self._store.revoke_lease(self._lease_id)
            except Exception as err:
                log.warning("service invocation lease revoke failed app_id=%s error=%s", self.app_id, err)
            self._lease_id = 0

    async def _register(self) -> None:
        async with self._lock:
            if not self._lease_id:
                self._lease_id = await self._store.grant_lease(self._lease_ttl_s)
            value = json.dumps({"address": self.address, "grpcAddress": self.grpc_address, "appId": self.app_id,
                                "namespace": self.namespace})
            _, resp = await self._store.txn([], [op_put(self._key(), value.encode(), self._lease_id)])
            self._table.put((self.namespace, self.app_id), self.address, int(resp.header.revision), self.grpc_address)

    async def wait_synced(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def known(self, namespace: str, app_id: str) -> bool:
        return self._table.known((namespace, app_id))

    def pick(self, namespace: str, app_id: str, exclude: frozenset[str] = frozenset()) -> str | None:
        return self._table.pick((namespace, app_id), self._monotonic(), exclude)

    def live(self, namespace: str, app_id: str) -> list[str]:
        return self._table.live((namespace, app_id), self._monotonic())

    def grpc_address_for(self, address: str) -> str:
        """The gRPC API address of the sidecar at (HTTP) ``address``; "" if it did not register one."""
        return self._table.grpc_addresses.get(address, "")

    def suspect(self, namespace: str, app_id: str, address: str) -> None:
        """Skip ``address`` for one lease TTL (it refused a call), unless it registers again."""
        log.warning("service invocation target suspected app_id=%s namespace=%s address=%s", app_id, namespace,
                    address)
        self._table.suspect((namespace, app_id), address, self._monotonic() + self._lease_ttl_s)

    async def _watch_loop(self) -> None:
        prefix = (self._root + "/").encode()
        while not self._stopping:
            try:
                revision = 0
                table = AddressTable(suspects=self._table.suspects, cursors=self._table.cursors)
                async for rev, kvs in self._store.range_prefix(prefix):
                    revision = rev
                    for kv in kvs:
                        parsed = parse_key(self._root, kv.key)
                        if parsed is not None:
                            table.put(parsed[0], parsed[1], kv.mod_revision, grpc_address_of(kv.value))
                self._table = table
                self._synced.set()
                async for _, events in self._store.watch_prefix(prefix, revision + 1, prev_kv=False):
                    for event in events:
                        parsed = parse_key(self._root, event.kv.key)
                        if parsed is None:
                            continue
                        if event.is_put:
                            grpc_address = grpc_address_of(event.kv.value)
                            self._table.put(parsed[0], parsed[1], event.kv.mod_revision, grpc_address)
                        else:
                            self._table.delete(parsed[0], parsed[1])
            except asyncio.CancelledError:
                raise
            except WatchCompacted:
                continue
            except Exception as err:
                log.warning("service invocation name resolution watch failed, resyncing error=%s", err)
                await asyncio.sleep(0.5)

    async def _keepalive_loop(self) -> None:
        interval = max(0.2, self._lease_ttl_s / 3)
        while not self._stopping:
            await asyncio.sleep(interval)
            try:
                ttl = await self._store.keepalive_once(self._lease_id) if self._lease_id else 0
                if ttl <= 0:
                    # Never registered, or the lease expired (etcd unreachable too long): register again.
                    log.warning("service invocation registration lost, registering again app_id=%s", self.app_id)
                    async with self._lock:
                        self._lease_id = 0
                    await self._register()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.warning("service invocation keepalive failed app_id=%s error=%s", self.app_id, err)

"""Name resolution for service invocation: which sidecars serve an app id, kept in the etcd the sidecars share.

Replaces daprd's mDNS resolver for self-hosted mode:

- Every sidecar with an app id writes ``<root>/<namespace>/<app id>/<address>`` (its sidecar-to-sidecar address)
  under an etcd lease it keeps alive (``daprjobs.etcd.leased_registry``: revoked when it stops, so its entry goes
  at once; a sidecar that dies stops refreshing and etcd drops the entry after at most the lease TTL).
- Every sidecar watches the whole prefix (all namespaces: ``app.namespace`` ids reach other namespaces) and keeps
  a table (namespace, app id) → live addresses. ``pick`` goes round robin over them.
- An address that refuses a call is *suspected*: skipped for one lease TTL unless its registration changes (a
  restarted sidecar registers again, which writes a new revision), so calls move on before etcd notices.

``AddressTable`` is pure; ``AppRegistry`` says what a registration holds and ``LeasedRegistry`` does the etcd I/O.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from daprjobs.etcd.leased_registry import LeasedRegistry, RegistrationTable
from daprjobs.etcd.store import EtcdStore, op_put

log = logging.getLogger(__name__)

DEFAULT_ROOT = "daprjobs/invoke/apps"
DEFAULT_LEASE_TTL_S = 10

AppKey = tuple[str, str]  # (namespace, app id)


@dataclass
class AddressTable(RegistrationTable[AppKey]):
    """(namespace, app id) → {address → registration revision}, local suspicions and round-robin cursors."""

    cursors: dict[AppKey, int] = field(default_factory=dict)
    # sidecar (HTTP) address → its gRPC API address, for gRPC proxying
    grpc_addresses: dict[str, str] = field(default_factory=dict)

    def put(self, group: AppKey, member: str, revision: int, value: bytes = b"") -> None:
        super().put(group, member, revision, value)
        grpc_address = grpc_address_of(value)
        if grpc_address:
            self.grpc_addresses[member] = grpc_address

    def emptied(self) -> AddressTable:
        return AddressTable(suspects=self.suspects, cursors=self.cursors)

    def known(self, app: AppKey) -> bool:
        return bool(self.members.get(app))

    def pick(self, app: AppKey, now: float, exclude: frozenset[str] = frozenset()) -> str | None:
        """The next live address of ``app`` in round-robin order, skipping ``exclude``; None if none is left.

        When every registered address is suspected they are tried anyway: a suspicion may be wrong, and an
        app with one instance must not become unreachable for a lease period after one failed call.
        """
        candidates = [a for a in self.live(app, now) if a not in exclude]
        if not candidates:
            candidates = sorted(a for a in self.members.get(app, {}) if a not in exclude)
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


class AppRegistry(LeasedRegistry[AddressTable]):
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
        self._root = root.rstrip("/")
        super().__init__(store, (self._root + "/").encode(), AddressTable(), lease_ttl_s,
                         what="service invocation", log_context=f"app_id={app_id} address={address}")
        self.namespace = namespace
        self.app_id = app_id
        self.address = address
        self.grpc_address = grpc_address
        self._monotonic = monotonic

    def _key(self) -> bytes:
        return f"{self._root}/{self.namespace}/{self.app_id}/{self.address}".encode()

    def _parse_key(self, key: bytes) -> tuple[AppKey, str] | None:
        return parse_key(self._root, key)

    async def start(self) -> None:
        """Register (a failure is logged and retried by the keepalive loop) and start watching."""
        try:
            async with self._lock:
                await self._lease()
                await self._write_registration()
        except Exception as err:
            log.warning("service invocation registration failed, retrying app_id=%s address=%s error=%s",
                        self.app_id, self.address, err)
        await super().start()

    async def _write_registration(self) -> None:
        value = json.dumps({"address": self.address, "grpcAddress": self.grpc_address, "appId": self.app_id,
                            "namespace": self.namespace}).encode()
        _, resp = await self._store.txn([], [op_put(self._key(), value, self._lease_id)])
        self._table.put((self.namespace, self.app_id), self.address, int(resp.header.revision), value)

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

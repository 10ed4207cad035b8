"""``Invoker``: sends an ``InvokeCall`` to the app it names — this sidecar's own app, or another app's sidecar.

Own app id (same namespace): straight to the app, as daprd's ``invokeLocal``. Any other: the next live address
from name resolution (round robin); an address that refuses the connection is suspected and the next one is
tried, so a dead sidecar costs at most one failed connect. A call that may have reached the target is never
sent a second time, but its address is suspected too (a reset connection), so the next call goes elsewhere.
"""

from __future__ import annotations

import logging

from daprjobs.sidecar.invoke.appcall import AppInvoker
from daprjobs.sidecar.invoke.headers import with_caller, with_forwarded
from daprjobs.sidecar.invoke.hop import HopClient
from daprjobs.sidecar.invoke.model import InvokeCall, InvokeFailure, InvokeResult
from daprjobs.sidecar.invoke.nameresolution import AppRegistry
from daprjobs.sidecar.invoke.target import normalize_method, split_app_id

log = logging.getLogger(__name__)

# How long a call made right after start waits for the first read of the address table.
SYNC_WAIT_S = 5.0


class Invoker:
    def __init__(self, app_id: str, namespace: str, local: AppInvoker, hop: HopClient,
                 registry: AppRegistry | None) -> None:
        self.app_id = app_id
        self.namespace = namespace
        self.local = local
        self._hop = hop
        self.registry = registry

    def is_self(self, app_id: str, namespace: str) -> bool:
        return app_id == self.app_id and namespace == self.namespace

    async def invoke(self, target: str, call: InvokeCall, timeout_s: float | None,
                     remote: str = "", host: str = "") -> InvokeResult:
        """The target app's answer, or ``InvokeFailure`` (daprd's ``err`` for ``ERR_DIRECT_INVOKE``)."""
        app_id, namespace = split_app_id(target, self.namespace)
        call.method = normalize_method(call.method)
        call.headers = with_caller(call.headers, self.app_id, self.namespace, app_id)
        if self.is_self(app_id, namespace):
            return await self.local.invoke(call, timeout_s)
        registry = self.registry
        if registry is None:
            raise InvokeFailure(f"couldn't find service: {target} (no etcd for name resolution: start the sidecar "
                                "with --etcd-client-endpoints or a state.etcd component, or use daprjobs run)")
        if not registry.known(namespace, app_id):
            await registry.wait_synced(SYNC_WAIT_S)
        call.headers = with_forwarded(call.headers, remote, host, registry.address)
        tried: set[str] = set()
        last: InvokeFailure | None = None
        while True:
            address = registry.pick(namespace, app_id, exclude=frozenset(tried))
            if address is None:
                if last is not None:
                    raise last
                raise InvokeFailure(f"couldn't find service: {target}")
            try:
                return await self._hop.send(address, app_id, namespace, call, timeout_s)
            except InvokeFailure as failure:
                if failure.address_failed:
                    registry.suspect(namespace, app_id, address)
                if not failure.retriable:
                    raise
                log.info("invoke target refused, trying another instance app_id=%s address=%s error=%s",
                         app_id, address, failure.detail)
                tried.add(address)
                last = failure

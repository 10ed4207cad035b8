"""Which Scheduler replicas exist: a ``WatchHosts`` stream, dialled at any known address.

The stream is opened at one of the configured seed addresses or a replica learned from an earlier answer,
never only at the first seed: when the replica serving the stream dies, the next attempt goes to another
address, so a dead seed does not freeze the host list. A Scheduler without WatchHosts (UNIMPLEMENTED) means
the configured addresses are the hosts.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence

import grpc

from daprjobs.core.backoff import Backoff
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.security.link import PLAINTEXT, SchedulerLinkSecurity
from daprjobs.sidecar.schedulerlink.channels import scheduler_channel

log = logging.getLogger(__name__)


REFUSALS = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


class HostDiscovery:
    def __init__(self, seeds: Sequence[str], on_hosts: Callable[[list[str]], None], rng: random.Random,
                 security: SchedulerLinkSecurity = PLAINTEXT,
                 on_refused: Callable[[grpc.aio.AioRpcError], None] | None = None) -> None:
        self._security = security
        self._on_refused = on_refused
        self._refusals_logged: set[tuple[str, grpc.StatusCode]] = set()
        self._seeds = list(dict.fromkeys(seeds))
        self._on_hosts = on_hosts
        self._rng = rng
        self._learned: list[str] = []
        self._turn = rng.randrange(len(self._seeds)) if self._seeds else 0

    def _next_address(self) -> str:
        candidates = list(dict.fromkeys([*self._seeds, *self._learned]))
        address = candidates[self._turn % len(candidates)]
        self._turn += 1
        return address

    def _apply(self, hosts: list[str]) -> None:
        self._learned = hosts
        self._on_hosts(hosts)

    async def run(self) -> None:
        """Forever: watch hosts at one address; on failure or end, back off briefly and try the next address."""
        backoff = Backoff(base_s=0.5, factor=1.5, maximum_s=2.0, jitter=0.5, rng=self._rng)
        while True:
            address = self._next_address()
            try:
                if await self._watch(address):
                    backoff.reset()
            except asyncio.CancelledError:
                raise
            except grpc.aio.AioRpcError as err:
                if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                    log.info("scheduler has no WatchHosts, using the configured addresses=%s", self._seeds)
                    self._on_hosts(sorted(self._seeds))
                    await asyncio.Event().wait()
                if err.code() in REFUSALS:
                    self._refused(address, err)
                else:
                    log.info("scheduler WatchHosts failed address=%s code=%s details=%s",
                             address, err.code().name, err.details())
            except Exception:
                log.exception("scheduler WatchHosts failed address=%s", address)
            await asyncio.sleep(backoff.next())

    def _refused(self, address: str, err: grpc.aio.AioRpcError) -> None:
        # A wrong token or certificate does not heal by retrying: say so loudly, once per replica and code, and let
        # Jobs API calls fail at once instead of waiting for a host that will never be learned.
        if (address, err.code()) not in self._refusals_logged:
            self._refusals_logged.add((address, err.code()))
            log.error("scheduler refused this sidecar (check DAPRJOBS_SCHEDULER_API_TOKEN and the scheduler TLS "
                      "flags) address=%s code=%s details=%s", address, err.code().name, err.details())
        if self._on_refused is not None:
            self._on_refused(err)

    async def _watch(self, address: str) -> bool:
        """One WatchHosts stream; True if it delivered at least one host list."""
        channel = scheduler_channel(address, self._security)
        delivered = False
        try:
            call = scheduler_pb2_grpc.SchedulerStub(channel).WatchHosts(scheduler_pb2.WatchHostsRequest())
            async for response in call:
                hosts = sorted({h.address for h in response.hosts if h.address})
                if hosts:
                    delivered = True
                    self._apply(hosts)
                else:
                    log.info("scheduler reported no hosts yet address=%s", address)
            log.info("scheduler WatchHosts stream ended address=%s", address)
        finally:
            await channel.close(grace=None)
        return delivered

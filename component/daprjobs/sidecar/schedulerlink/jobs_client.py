"""Unary Scheduler calls (ScheduleJob, GetJob, …) spread over the live replicas.

Calls go round-robin over the known hosts without ``wait_for_ready``: a replica that refuses connections
fails the call at once (UNAVAILABLE) instead of holding it until the deadline, the host is skipped for
``SUSPECT_S`` and the call is retried on the next one. CANCELLED (a replica shutting down) is retried too.
Before any host is known, a call waits for one up to its deadline.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import grpc

from daprjobs.core.backoff import Backoff
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.security.link import PLAINTEXT, SchedulerLinkSecurity
from daprjobs.sidecar.schedulerlink.channels import rpc_error, scheduler_channel

log = logging.getLogger(__name__)

RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
SUSPECT_S = 5.0
# A daprjobs scheduler's mark on an answer caused by etcd (daprjobs.scheduler.store_errors): every replica shares
# that etcd, so the call is not retried elsewhere and the replica is not suspected.
STORE_FAILURE_KEY = "daprjobs-store-failure"


def _store_failure(err: grpc.aio.AioRpcError) -> bool:
    return any(key == STORE_FAILURE_KEY for key, _ in (err.trailing_metadata() or ()))


class SchedulerJobsClient:
    """The unary half of Dapr's Scheduler API, one channel per host."""

    def __init__(self, rng: random.Random, rpc_timeout_s: float = 30.0,
                 security: SchedulerLinkSecurity = PLAINTEXT) -> None:
        self._security = security
        self._rng = rng
        self.rpc_timeout_s = rpc_timeout_s
        self._hosts: tuple[str, ...] = ()
        self._known = asyncio.Event()
        # Set while the schedulers refuse this sidecar (token/TLS) and no host is known: calls fail with it at once.
        self._refusal: grpc.aio.AioRpcError | None = None
        self._stubs: dict[str, tuple[grpc.aio.Channel, scheduler_pb2_grpc.SchedulerStub]] = {}
        self._suspect_until: dict[str, float] = {}
        self._next = 0
        self._closing: set[asyncio.Task[None]] = set()
        self.stopping = False

    @property
    def hosts(self) -> list[str]:
        return list(self._hosts)

    def live_hosts(self) -> list[str]:
        """Hosts not suspected of being down (a refused call marks a host for ``SUSPECT_S``)."""
        now = asyncio.get_running_loop().time()
        return [h for h in self._hosts if self._suspect_until.get(h, 0.0) <= now]

    def set_hosts(self, hosts: list[str]) -> None:
        new = tuple(hosts)
        for gone in set(self._stubs) - set(new):
            channel, _ = self._stubs.pop(gone)
            closing = asyncio.get_running_loop().create_task(channel.close(grace=5.0))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
        for host in new:
            if host not in self._stubs:
                channel = scheduler_channel(host, self._security)
                self._stubs[host] = (channel, scheduler_pb2_grpc.SchedulerStub(channel))
        self._hosts = new
        self._known.set()
        self._refusal = None

    def refuse(self, err: grpc.aio.AioRpcError) -> None:
        """The schedulers refused this sidecar (UNAUTHENTICATED / PERMISSION_DENIED while discovering hosts)."""
        if not self._hosts:
            self._refusal = err

    async def close(self) -> None:
        self.stopping = True
        for channel, _ in self._stubs.values():
            await channel.close(grace=None)
        self._stubs.clear()

    def _pick(self) -> str:
        live = self.live_hosts() or list(self._hosts)
        host = live[self._next % len(live)]
        self._next += 1
        return host

    async def call(self, method: str, request: Any) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.rpc_timeout_s
        retry = Backoff(base_s=0.1, factor=2.0, maximum_s=0.5, jitter=0.5, rng=self._rng)
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "timed out waiting for a scheduler host")
            if not self._hosts and self._refusal is not None:
                raise rpc_error(self._refusal.code(), f"the scheduler refused this sidecar: {self._refusal.details()}")
            if not self._hosts:
                try:
                    # Woken every half second to notice a refusal reported meanwhile.
                    await asyncio.wait_for(self._known.wait(), timeout=min(remaining, 0.5))
                except TimeoutError:
                    if deadline - loop.time() <= 0:
                        raise rpc_error(grpc.StatusCode.UNAVAILABLE, "no scheduler host is available") from None
                continue
            host = self._pick()
            entry = self._stubs.get(host)
            if entry is None:
                continue
            try:
                return await getattr(entry[1], method)(request, timeout=remaining)
            except grpc.aio.AioRpcError as err:
                if err.code() not in RETRYABLE or self.stopping or deadline - loop.time() < 0.2 \
                        or _store_failure(err):
                    raise
                self._suspect_until[host] = loop.time() + SUSPECT_S
                log.info("scheduler call retried on another host method=%s host=%s code=%s",
                         method, host, err.code().name)
            except grpc.aio.UsageError:
                pass  # the channel was closed by a host change: take the next one
            await asyncio.sleep(retry.next())

    async def schedule_job(
        self, name: str, job: scheduler_pb2.Job, metadata: scheduler_pb2.JobMetadata, overwrite: bool
    ) -> scheduler_pb2.ScheduleJobResponse:
        request = scheduler_pb2.ScheduleJobRequest(name=name, job=job, metadata=metadata, overwrite=overwrite)
        resp: scheduler_pb2.ScheduleJobResponse = await self.call("ScheduleJob", request)
        return resp

    async def get_job(self, name: str, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.GetJobResponse:
        request = scheduler_pb2.GetJobRequest(name=name, metadata=metadata)
        resp: scheduler_pb2.GetJobResponse = await self.call("GetJob", request)
        return resp

    async def delete_job(self, name: str, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.DeleteJobResponse:
        request = scheduler_pb2.DeleteJobRequest(name=name, metadata=metadata)
        resp: scheduler_pb2.DeleteJobResponse = await self.call("DeleteJob", request)
        return resp

    async def list_jobs(self, metadata: scheduler_pb2.JobMetadata) -> scheduler_pb2.ListJobsResponse:
        resp: scheduler_pb2.ListJobsResponse = await self.call(
            "ListJobs", scheduler_pb2.ListJobsRequest(metadata=metadata))
        return resp

    async def delete_by_metadata(
        self, metadata: scheduler_pb2.JobMetadata, id_prefix_match: bool | None = None
    ) -> scheduler_pb2.DeleteByMetadataResponse:
        request = scheduler_pb2.DeleteByMetadataRequest(metadata=metadata)
        if id_prefix_match is not None:
            request.id_prefix_match = id_prefix_match
        resp: scheduler_pb2.DeleteByMetadataResponse = await self.call("DeleteByMetadata", request)
        return resp

    async def delete_by_name_prefix(
        self, prefix: str, metadata: scheduler_pb2.JobMetadata
    ) -> scheduler_pb2.DeleteByNamePrefixResponse:
        request = scheduler_pb2.DeleteByNamePrefixRequest(name_prefix=prefix, metadata=metadata)
        resp: scheduler_pb2.DeleteByNamePrefixResponse = await self.call("DeleteByNamePrefix", request)
        return resp

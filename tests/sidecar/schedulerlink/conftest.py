"""The sidecar's scheduler link against a real in-process replica on a real etcd, over either transport.

``link`` is parametrized: ``grpc`` (Dapr's Scheduler gRPC API, what a separate sidecar uses, with daprjobs'
batched framing negotiated), ``grpc-dapr`` (the same, one trigger per message: Dapr's exact protocol) and ``local``
(the in-process transport ``daprjobs run`` uses). Every test taking it is part of the one contract all must meet.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.scheduler.server import SchedulerReplica
from daprjobs.sidecar.block import AckStatus
from daprjobs.sidecar.schedulerlink.client import SchedulerClient

from tests.support.inprocess import scheduler_config, unique_prefix

Behaviour = Callable[[scheduler_pb2.WatchJobsResponse, int], Awaitable[AckStatus | None]]


async def succeed(trigger: scheduler_pb2.WatchJobsResponse, attempt: int) -> AckStatus | None:
    return scheduler_pb2.SUCCESS


@dataclass
class RecordingHandler:
    """Records every trigger (per job name, in order) and how many are in hand at once."""

    behaviour: Behaviour = succeed
    deliveries: list[scheduler_pb2.WatchJobsResponse] = field(default_factory=list)
    per_name: collections.Counter[str] = field(default_factory=collections.Counter)
    in_hand: collections.Counter[str] = field(default_factory=collections.Counter)
    max_in_hand_per_name: int = 0
    total_in_hand: int = 0
    max_total_in_hand: int = 0

    async def __call__(self, trigger: scheduler_pb2.WatchJobsResponse) -> AckStatus | None:
        self.deliveries.append(trigger)
        self.per_name[trigger.name] += 1
        self.in_hand[trigger.name] += 1
        self.total_in_hand += 1
        self.max_in_hand_per_name = max(self.max_in_hand_per_name, self.in_hand[trigger.name])
        self.max_total_in_hand = max(self.max_total_in_hand, self.total_in_hand)
        try:
            return await self.behaviour(trigger, self.per_name[trigger.name])
        finally:
            self.in_hand[trigger.name] -= 1
            self.total_in_hand -= 1


@dataclass
class Link:
    transport: str
    replica: SchedulerReplica
    clients: list[SchedulerClient] = field(default_factory=list)
    replica_stopped: bool = False

    async def stop_replica(self) -> None:
        await self.replica.stop()
        self.replica_stopped = True

    async def client(self, handler: RecordingHandler, app_id: str, **options: Any) -> SchedulerClient:
        """A started link for ``app_id`` whose streams carry app jobs to ``handler``."""
        local = self.replica.local_endpoint() if self.transport == "local" else None
        if self.transport == "grpc-dapr":
            options.setdefault("trigger_batch", 1)
        client = SchedulerClient([self.replica.address], app_id, "default", handler=handler, local=local, **options)
        self.clients.append(client)
        await client.start()
        client.set_app_target(True)
        return client


@pytest.fixture(params=["grpc", "grpc-dapr", "local"])
async def link(request: pytest.FixtureRequest, module_etcd: EtcdProcess) -> AsyncIterator[Link]:
    replica = SchedulerReplica(scheduler_config(module_etcd.endpoint, unique_prefix(), free_port()))
    await replica.start()
    state = Link(request.param, replica)
    try:
        yield state
    finally:
        for client in state.clients:
            await asyncio.wait_for(client.stop(handler_grace_s=1.0), 30)
        if not state.replica_stopped:
            await asyncio.wait_for(replica.stop(), 30)

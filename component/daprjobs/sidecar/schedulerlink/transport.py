"""How the sidecar's scheduler link reaches the Scheduler: the typed seam between the link and the wire.

Two implementations of each part:

- unary Jobs calls (``sidecar.jobsclient.UnaryJobs``): ``jobs_client.SchedulerJobsClient`` (Dapr's Scheduler
  gRPC API, round-robin over the live replicas) and ``local_transport.LocalJobs`` (a replica in this very process);
- trigger streams (``TriggerTransport``, one per replica): ``grpc_transport.GrpcTriggerTransport`` and
  ``local_transport.LocalTriggerTransport``.

The local ones serve ``daprjobs run``, where the scheduler replica and the sidecars share a process: the same
service logic is called directly, without serialization or a loopback HTTP/2 connection. Both carry the same
semantics; the contract suite (``tests/sidecar/schedulerlink/test_transport_contract.py``) runs over both.
"""

from __future__ import annotations

from typing import Protocol

from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.sidecar.block import AckStatus


class TriggerChannel(Protocol):
    """One open WatchJobs stream as the sidecar sees it."""

    async def read(self) -> scheduler_pb2.WatchJobsResponse | None:
        """The next trigger; ``None`` when the Scheduler ended the stream. Raises ``grpc.aio.AioRpcError``
        when the stream failed."""
        ...

    def ack(self, trigger_id: int, status: AckStatus) -> None:
        """Send the result of one trigger (never blocks; an ack on a dead stream is dropped, and the Scheduler
        re-stages that trigger)."""
        ...

    async def close(self) -> None:
        """End the stream; the Scheduler resolves whatever is still unacked on it as undelivered."""
        ...


class TriggerTransport(Protocol):
    """Opens trigger streams to one replica."""

    async def open(self, initial: scheduler_pb2.WatchJobsRequest) -> TriggerChannel:
        """Open a WatchJobs stream with this initial message. Raises ``grpc.aio.AioRpcError`` if refused."""
        ...

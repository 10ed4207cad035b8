"""Batched WatchJobs streams between daprjobs sidecars and schedulers (beyond Dapr's protocol).

Dapr's ``WatchJobs`` carries one trigger per message and one ack per message; over grpc.aio each message costs
~60 µs per side. A daprjobs sidecar asks for batches with the request header ``daprjobs-trigger-batch: <n>``;
the scheduler confirms with the same response header and may then pack up to ``n`` triggers already waiting in
the stream's outbox into one message (``WatchJobsResponse.daprjobs_batch``), and the sidecar packs its acks
(``WatchJobsRequest.daprjobs_results``). A client that does not ask — daprd — gets Dapr's exact protocol. A batch
changes only the framing: every trigger in it is in flight on the stream, re-staged if the stream dies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from typing import Any

from daprjobs.proto.scheduler.v1 import scheduler_pb2

BATCH_HEADER = "daprjobs-trigger-batch"
# Most triggers per message either side accepts, and a byte budget so a batch of big payloads stays far below the
# gRPC message limits (a lone trigger of any size still goes alone).
MAX_BATCH = 256
BATCH_BYTES = 1024 * 1024


def requested_batch(metadata: Iterable[tuple[str, Any]] | None) -> int:
    """The batch size a client asked for (1 = Dapr's protocol: not asked, or not a number > 1)."""
    for key, value in metadata or ():
        if key == BATCH_HEADER:
            try:
                asked = int(value)
            except (TypeError, ValueError):
                return 1
            return max(1, min(asked, MAX_BATCH))
    return 1


def take_batch(outbox: asyncio.Queue[scheduler_pb2.WatchJobsResponse | None],
               first: scheduler_pb2.WatchJobsResponse, limit: int
               ) -> tuple[scheduler_pb2.WatchJobsResponse, bool]:
    """``first`` plus the triggers already waiting (up to ``limit`` in all, within ``BATCH_BYTES``), as one
    message; and whether the outbox's end (``None``) was met, which the caller must honour after sending."""
    if limit <= 1 or outbox.empty():
        return first, False
    items = [first]
    size = first.ByteSize()
    ended = False
    while len(items) < limit and not outbox.empty():
        following = outbox.get_nowait()
        if following is None:
            ended = True
            break
        size += following.ByteSize()
        items.append(following)
        if size >= BATCH_BYTES:
            break
    if len(items) == 1:
        return first, ended
    return scheduler_pb2.WatchJobsResponse(daprjobs_batch=items), ended


def results_in(request: scheduler_pb2.WatchJobsRequest) -> Iterator[scheduler_pb2.WatchJobsRequestResult]:
    """The acks a request carries: Dapr's single ``result`` and/or a daprjobs batch."""
    if request.WhichOneof("watch_job_request_type") == "result":
        yield request.result
    yield from request.daprjobs_results

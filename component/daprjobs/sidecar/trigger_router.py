"""Hand each scheduler trigger to the first block consumer that takes it, and count the outcome."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.sidecar.block import AckStatus, TriggerConsumer
from daprjobs.sidecar.metrics import SidecarMetrics

log = logging.getLogger(__name__)


class TriggerRouter:
    def __init__(self, consumers: Sequence[TriggerConsumer], metrics: SidecarMetrics | None, app_id: str) -> None:
        self._consumers = tuple(consumers)
        self._metrics = metrics
        self._app_id = app_id

    async def __call__(self, trigger: scheduler_pb2.WatchJobsResponse) -> AckStatus | None:
        target = trigger.metadata.target.WhichOneof("type") or "job"
        started = time.monotonic()
        status = await self._deliver(trigger, target)
        if self._metrics is not None:
            outcome = "requeued" if status is None else ("success" if status == scheduler_pb2.SUCCESS else "failed")
            self._metrics.record_trigger(target, outcome, time.monotonic() - started)
        return status

    async def _deliver(self, trigger: scheduler_pb2.WatchJobsResponse, target: str) -> AckStatus | None:
        for consumer in self._consumers:
            if consumer.accepts(trigger):
                return await consumer.deliver(trigger)
        # daprd answers FAILED for a trigger it cannot place (e.g. a reminder with no actor runtime).
        log.error("no building block takes this trigger name=%s target=%s app_id=%s", trigger.name, target,
                  self._app_id)
        return scheduler_pb2.FAILED

"""Turn one ``WatchJobsResponse`` into a call to the app (or the actor runtime) and an ack status.

daprd's streamer: target ``job`` goes to the app channel, target ``actor`` to the actor runtime (no runtime:
FAILED). One addition keeps jobs from being lost while the app is down: when a delivery cannot even
connect to the app, the app port is probed at once; if it is closed the app is marked unhealthy (which
closes the job streams) and the trigger is *not* acked, so the Scheduler re-stages it until the app is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.sidecar.appchannel import AppChannel, TriggerResult
from daprjobs.sidecar.apphealth import AppHealthMonitor
from daprjobs.sidecar.metrics import SidecarMetrics
from daprjobs.sidecar.schedclient import AckStatus

log = logging.getLogger(__name__)


class ReminderTarget(Protocol):
    async def deliver_reminder(self, trigger: scheduler_pb2.WatchJobsResponse) -> bool: ...


class TriggerDelivery:
    def __init__(
        self,
        app_channel: AppChannel | None,
        app_health: AppHealthMonitor | None,
        actors: Callable[[], ReminderTarget | None],
        metrics: SidecarMetrics | None = None,
    ) -> None:
        self._app = app_channel
        self._health = app_health
        self._actors = actors
        self._metrics = metrics

    async def __call__(self, trigger: scheduler_pb2.WatchJobsResponse) -> AckStatus | None:
        target = trigger.metadata.target.WhichOneof("type")
        started = time.monotonic()
        status: AckStatus | None
        if target == "actor":
            status = await self._deliver_reminder(trigger)
        else:
            status = await self._deliver_job(trigger)
        if self._metrics is not None:
            outcome = "requeued" if status is None else ("success" if status == scheduler_pb2.SUCCESS else "failed")
            self._metrics.record_trigger(target or "job", outcome, time.monotonic() - started)
        return status

    async def _deliver_reminder(self, trigger: scheduler_pb2.WatchJobsResponse) -> AckStatus:
        runtime = self._actors()
        actor = trigger.metadata.target.actor
        if runtime is None:
            log.error("actor reminder received but the actor runtime is not running name=%s actor_type=%s",
                      trigger.name, actor.type)
            return scheduler_pb2.FAILED
        ok = await runtime.deliver_reminder(trigger)
        if not ok:
            log.warning("actor reminder failed name=%s actor_type=%s actor_id=%s", trigger.name, actor.type, actor.id)
        return scheduler_pb2.SUCCESS if ok else scheduler_pb2.FAILED

    async def _deliver_job(self, trigger: scheduler_pb2.WatchJobsResponse) -> AckStatus | None:
        if self._app is None:
            log.error("job received but the sidecar has no app channel (no --app-port) name=%s", trigger.name)
            return scheduler_pb2.FAILED
        if self._health is not None and not self._health.healthy:
            # The job streams are closing; the Scheduler will hand this trigger over again later.
            log.info("job arrived while the app is unhealthy, left for redelivery name=%s", trigger.name)
            return None
        data = trigger.data if trigger.HasField("data") else None
        result = await self._app.trigger_job(trigger.name, data)
        if result is TriggerResult.UNREACHABLE:
            if self._health is not None and not await self._health.recheck():
                log.info("app is down, job left for redelivery name=%s", trigger.name)
                return None
            return scheduler_pb2.FAILED
        if result is TriggerResult.SUCCESS:
            log.debug("job delivered name=%s", trigger.name)
            return scheduler_pb2.SUCCESS
        return scheduler_pb2.FAILED

"""Deliver an app job's trigger to the app and turn the outcome into an ack status.

daprd's streamer sends target ``job`` to the app channel. One addition keeps jobs from being lost while the
app is down: when a delivery cannot even connect to the app, the app port is probed at once; if it is closed
the app is marked unhealthy (which closes the job streams) and the trigger is *not* acked, so the Scheduler
re-stages it until the app is back. Internal jobs of other blocks (``INTERNAL_JOB_PREFIX``) are not taken.
"""

from __future__ import annotations

import logging

from daprjobs.core.names import is_internal_job
from daprjobs.core.trigger_id import trigger_id
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.sidecar.apphealth import AppHealthMonitor
from daprjobs.sidecar.block import AckStatus
from daprjobs.sidecar.jobs.app_channel import JobAppChannel, JobCallOutcome

log = logging.getLogger(__name__)


class JobTriggerConsumer:
    def __init__(self, app_channel: JobAppChannel | None, app_health: AppHealthMonitor | None, app_id: str) -> None:
        self._app = app_channel
        self._health = app_health
        self._app_id = app_id

    def accepts(self, trigger: scheduler_pb2.WatchJobsResponse) -> bool:
        target = trigger.metadata.target.WhichOneof("type")
        return target in (None, "job") and not is_internal_job(trigger.name)

    async def deliver(self, trigger: scheduler_pb2.WatchJobsResponse) -> AckStatus | None:
        if self._app is None:
            log.error("job received but the sidecar has no app channel (no --app-port) name=%s app_id=%s",
                      trigger.name, self._app_id)
            return scheduler_pb2.FAILED
        if self._health is not None and not self._health.healthy:
            # The job streams are closing; the Scheduler will hand this trigger over again later.
            log.info("job arrived while the app is unhealthy, left for redelivery name=%s app_id=%s",
                     trigger.name, self._app_id)
            return None
        data = trigger.data if trigger.HasField("data") else None
        tick = trigger.daprjobs_scheduled_unix_ns if trigger.HasField("daprjobs_scheduled_unix_ns") else None
        result = await self._app.trigger_job(trigger.name, data,
                                             trigger_id(trigger.name, tick) if tick is not None else None)
        if result is JobCallOutcome.UNREACHABLE:
            if self._health is not None and not await self._health.recheck():
                log.info("app is down, job left for redelivery name=%s app_id=%s", trigger.name, self._app_id)
                return None
            return scheduler_pb2.FAILED
        if result is JobCallOutcome.SUCCESS:
            log.debug("job delivered name=%s", trigger.name)
            return scheduler_pb2.SUCCESS
        return scheduler_pb2.FAILED

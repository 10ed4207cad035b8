"""Delayed publish (beyond Dapr): a message held as a scheduler job until its time, then published.

Publish metadata ``scheduledSendTime`` (RFC3339) or ``scheduledSendDelay`` (Go duration, e.g. ``90s``,
``1h30m``) makes the publish call store the ready-made broker message as a one-shot internal job
(``daprjobs.internal.pubsub.<uuid>``) of the publishing app in the scheduler, in etcd, before it returns.
The job belongs to the app's internal id (``<app id>.daprjobs-internal``), which every sidecar of the app watches
over a link of its own: the scheduler fires it at or after its due time (never before) through any live sidecar
of the app, whether or not the app itself answers, and the app's ListJobs never shows it. That sidecar then
publishes it; a failed publish is retried by the job's failure policy (every 5 s, without limit), so
the message survives restarts of sidecars, schedulers and the broker. A time that has already passed
publishes at once. Broker-native keys (Service Bus ``ScheduledEnqueueTimeUtc``, Pulsar ``deliverAt``…)
are not read here: they go to the component untouched.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dapr.proto.common.v1 import common_pb2
from google.protobuf import any_pb2, duration_pb2, wrappers_pb2

from daprjobs.components.pubsub.protocol import PubSubComponent
from daprjobs.core.go_duration import parse_go_duration
from daprjobs.core.names import INTERNAL_JOB_PREFIX
from daprjobs.core.rfc3339 import format_rfc3339, parse_rfc3339
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from daprjobs.sidecar.block import AckStatus
from daprjobs.sidecar.jobsclient import JobsClient
from daprjobs.sidecar.pubsub.cloudevents import MetadataError

log = logging.getLogger(__name__)

SCHEDULED_SEND_TIME = "scheduledSendTime"
SCHEDULED_SEND_DELAY = "scheduledSendDelay"
JOB_PREFIX = INTERNAL_JOB_PREFIX + "pubsub."
INTERNAL_APP_SUFFIX = ".daprjobs-internal"
_DATA_TYPE_URL = "type.googleapis.com/google.protobuf.BytesValue"
_RETRY_INTERVAL_S = 5


def internal_app_id(app_id: str) -> str:
    """The app id under which an app's delayed messages are held (a scheduler app of its own)."""
    return app_id + INTERNAL_APP_SUFFIX


def send_time_ns(metadata: Mapping[str, str], now_ns: int) -> int | None:
    """When a message with this metadata may be published, or None for now; raises ``MetadataError``."""
    at = metadata.get(SCHEDULED_SEND_TIME, "").strip()
    delay = metadata.get(SCHEDULED_SEND_DELAY, "").strip()
    if at and delay:
        raise MetadataError(f"give either {SCHEDULED_SEND_TIME} or {SCHEDULED_SEND_DELAY}, not both")
    if at:
        try:
            return parse_rfc3339(at)
        except ValueError as exc:
            raise MetadataError(f"{SCHEDULED_SEND_TIME} must be an RFC3339 time such as "
                                f"2030-01-02T15:04:05Z: {exc}") from None
    if delay:
        try:
            ns = parse_go_duration(delay)
        except ValueError as exc:
            raise MetadataError(f"{SCHEDULED_SEND_DELAY} must be a Go duration such as 90s or 1h30m: {exc}") from None
        if ns < 0:
            raise MetadataError(f"{SCHEDULED_SEND_DELAY} must not be negative: {delay}")
        return now_ns + ns
    return None


@dataclass(frozen=True)
class HeldMessage:
    pubsub: str
    topic: str
    data: bytes
    metadata: dict[str, str]

    def to_any(self) -> any_pb2.Any:
        doc = {"pubsub": self.pubsub, "topic": self.topic, "data": base64.b64encode(self.data).decode(),
               "metadata": self.metadata}
        value = wrappers_pb2.BytesValue(value=json.dumps(doc, separators=(",", ":")).encode())
        return any_pb2.Any(type_url=_DATA_TYPE_URL, value=value.SerializeToString())

    @classmethod
    def from_any(cls, data: any_pb2.Any) -> HeldMessage:
        value = wrappers_pb2.BytesValue.FromString(data.value)
        doc = json.loads(value.value)
        return cls(str(doc["pubsub"]), str(doc["topic"]), base64.b64decode(doc["data"]),
                   {str(k): str(v) for k, v in dict(doc.get("metadata") or {}).items()})


class DelayedPublisher:
    """Holds messages as internal jobs, and publishes them when their triggers arrive (a ``TriggerConsumer``)."""

    def __init__(self, scheduler: JobsClient, app_id: str, namespace: str,
                 component: Callable[[str], PubSubComponent | None]) -> None:
        self._scheduler = scheduler
        self._app_id = app_id
        self._namespace = namespace
        self._component = component

    def job_metadata(self) -> scheduler_pb2.JobMetadata:
        return scheduler_pb2.JobMetadata(app_id=self._app_id, namespace=self._namespace,
                                         target=scheduler_pb2.JobTargetMetadata(job=scheduler_pb2.TargetJob()))

    async def hold(self, message: HeldMessage, due_ns: int) -> str:
        """Store the message as a one-shot job due at ``due_ns``; returns the job name."""
        name = JOB_PREFIX + uuid.uuid4().hex
        policy = common_pb2.JobFailurePolicy(constant=common_pb2.JobFailurePolicyConstant(
            interval=duration_pb2.Duration(seconds=_RETRY_INTERVAL_S)))
        job = scheduler_pb2.Job(due_time=format_rfc3339(due_ns), data=message.to_any(), failure_policy=policy)
        await self._scheduler.schedule_job(name, job, self.job_metadata(), False)
        log.debug("message held for delayed publish job=%s pubsub=%s topic=%s due=%s", name, message.pubsub,
                  message.topic, job.due_time)
        return name

    def accepts(self, trigger: scheduler_pb2.WatchJobsResponse) -> bool:
        return trigger.metadata.target.WhichOneof("type") == "job" and trigger.name.startswith(JOB_PREFIX)

    async def deliver(self, trigger: scheduler_pb2.WatchJobsResponse) -> AckStatus | None:
        try:
            message = HeldMessage.from_any(trigger.data)
        except (ValueError, KeyError, TypeError) as exc:
            log.error("delayed message unreadable, dropped app_id=%s job=%s error=%s", self._app_id, trigger.name, exc)
            return scheduler_pb2.SUCCESS
        component = self._component(message.pubsub)
        if component is None:
            log.error("delayed message for an unknown pubsub, retried later app_id=%s job=%s pubsub=%s topic=%s",
                      self._app_id, trigger.name, message.pubsub, message.topic)
            return scheduler_pb2.FAILED
        try:
            await component.publish(message.topic, message.data, message.metadata)
        except Exception as exc:
            log.warning("delayed publish failed, retried later app_id=%s job=%s pubsub=%s topic=%s error=%s",
                        self._app_id, trigger.name, message.pubsub, message.topic, exc)
            return scheduler_pb2.FAILED
        log.debug("delayed message published app_id=%s job=%s pubsub=%s topic=%s", self._app_id, trigger.name,
                  message.pubsub, message.topic)
        return scheduler_pb2.SUCCESS


"""Prometheus metrics with Dapr's scheduler names (dapr_scheduler_*), plus daprjobs' own."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class SchedulerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.sidecars_connected = Gauge("dapr_scheduler_sidecars_connected",
                                        "WatchJobs streams connected to this replica", registry=r)
        self.jobs_created = Counter("dapr_scheduler_jobs_created", "Jobs scheduled", ["type"], registry=r)
        self.jobs_created_failed = Counter("dapr_scheduler_jobs_created_failed", "ScheduleJob calls refused",
                                           registry=r)
        self.jobs_triggered = Counter("dapr_scheduler_jobs_triggered", "Triggers acked SUCCESS", registry=r)
        self.jobs_failed = Counter("dapr_scheduler_jobs_failed", "Triggers acked FAILED", registry=r)
        self.jobs_undelivered = Counter("dapr_scheduler_jobs_undelivered",
                                        "Triggers with no stream to go to, or whose stream died", registry=r)
        self.jobs_deleted = Counter("dapr_scheduler_jobs_deleted", "Jobs deleted through the API", registry=r)
        self.jobs_bulk_deleted = Counter("dapr_scheduler_jobs_bulk_deleted", "Bulk delete calls", registry=r)
        self.trigger_latency_ms = Histogram("dapr_scheduler_trigger_latency", "Due time to ack, in ms",
                                            buckets=(0, 100, 500, 1000, 5000, 10000), registry=r)
        self.owned_jobs = Gauge("daprjobs_scheduler_owned_jobs", "Jobs this replica currently triggers",
                                registry=r)
        self.members = Gauge("daprjobs_scheduler_members", "Live scheduler replicas seen by this one", registry=r)
        self._created_by_type: dict[str, Any] = {}

    def created(self, kind: str) -> Any:
        """``jobs_created`` for ``kind`` (job/actor), its label child bound once, not looked up per ScheduleJob."""
        child = self._created_by_type.get(kind)
        if child is None:
            child = self._created_by_type[kind] = self.jobs_created.labels(type=kind)
        return child

"""Scheduler metrics: jobs created per type through the label children bound once."""

from __future__ import annotations

from daprjobs.scheduler.metrics import SchedulerMetrics
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families


def test_jobs_created_counts_per_type() -> None:
    metrics = SchedulerMetrics()
    metrics.created("job").inc()
    metrics.created("job").inc()
    metrics.created("actor").inc()
    text = generate_latest(metrics.registry).decode()
    created = {s.labels["type"]: s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == "dapr_scheduler_jobs_created_total"}
    assert created == {"job": 2, "actor": 1}

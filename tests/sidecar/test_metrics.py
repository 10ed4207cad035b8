"""Sidecar metrics: the label children bound once still count per label set."""

from __future__ import annotations

from daprjobs.sidecar.metrics import SidecarMetrics
from prometheus_client.parser import text_string_to_metric_families


def samples(metrics: SidecarMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(metrics.render().decode()) for s in family.samples}


def test_triggers_and_requests_count_per_label_set() -> None:
    metrics = SidecarMetrics("app-a")
    for _ in range(3):
        metrics.record_trigger("job", "success", 0.01)
    metrics.record_trigger("job", "failed", 0.02)
    metrics.record_trigger("actor", "success", 0.03)
    metrics.record_request("http", "POST /v1.0-alpha1/jobs/{name}", "204")
    metrics.record_request("http", "POST /v1.0-alpha1/jobs/{name}", "204")
    got = samples(metrics)
    triggers = "daprjobs_sidecar_job_triggers_total"
    assert got[(triggers, (("app_id", "app-a"), ("outcome", "success"), ("target", "job")))] == 3
    assert got[(triggers, (("app_id", "app-a"), ("outcome", "failed"), ("target", "job")))] == 1
    assert got[(triggers, (("app_id", "app-a"), ("outcome", "success"), ("target", "actor")))] == 1
    seconds = "daprjobs_sidecar_job_trigger_seconds_count"
    assert got[(seconds, (("app_id", "app-a"), ("target", "job")))] == 4
    method = "POST /v1.0-alpha1/jobs/{name}"
    requests = ("daprjobs_sidecar_api_requests_total",
                (("app_id", "app-a"), ("method", method), ("protocol", "http"), ("status", "204")))
    assert got[requests] == 2

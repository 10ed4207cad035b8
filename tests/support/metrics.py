"""Reading a daprjobs process's Prometheus metrics (the scheduler's ``--metrics-port``, the sidecar's)."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def scrape(port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> dict[str, float]:
    """Every sample as ``name{label="v",...}`` -> value (labels sorted), plus each name summed over its labels."""
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=timeout) as resp:
        text = resp.read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
            if labels:
                out[sample.name] = out.get(sample.name, 0.0) + sample.value
    return out


def pick(samples: dict[str, float], *names: str) -> float | None:
    """The first of ``names`` present (metric names differ by a suffix between client versions, e.g. ``_total``)."""
    for name in names:
        if name in samples:
            return samples[name]
    return None

"""Point the Python SDK's clients at a sidecar for one test.

``dapr.conf.settings`` reads ``DAPR_*`` from the environment at every access unless a value was assigned on it,
and an assigned value then wins for the rest of the process. So tests set the environment (undone by
monkeypatch) and never assign settings: an assignment "restored" afterwards would freeze a dead sidecar's port
into every later SDK test.
"""

from __future__ import annotations

import pytest


def point_sdk_at(monkeypatch: pytest.MonkeyPatch, http_port: int, grpc_port: int, **extra: str) -> None:
    """``DAPR_HTTP_PORT``/``DAPR_GRPC_PORT`` (and ``extra`` settings, e.g. ``DAPR_API_METHOD_INVOCATION_PROTOCOL``)
    for this test; ``DAPR_API_TOKEN`` unset unless given."""
    monkeypatch.setenv("DAPR_RUNTIME_HOST", "127.0.0.1")
    monkeypatch.setenv("DAPR_HTTP_PORT", str(http_port))
    monkeypatch.setenv("DAPR_GRPC_PORT", str(grpc_port))
    monkeypatch.delenv("DAPR_API_TOKEN", raising=False)
    for name, value in extra.items():
        monkeypatch.setenv(name, value)

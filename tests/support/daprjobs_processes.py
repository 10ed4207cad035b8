"""daprjobs as real child processes: ``daprjobs scheduler`` replicas and ``daprjobs sidecar``s (``kill -9`` is real).

Each takes its ports up front (free ones by default), so a test or the bench can restart one on the same ports, and
writes its log to ``<log_dir>/<name>.log``.
"""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Sequence
from typing import Any

import httpx
from daprjobs.etcd.embedded import free_port

from tests.support.metrics import pick, scrape
from tests.support.processes import ChildProcess, child_env, http_ok, http_status
from tests.support.waiting import eventually

DAPRJOBS = [sys.executable, "-m", "daprjobs"]


class SchedulerProcess(ChildProcess):
    """``daprjobs scheduler`` on 127.0.0.1; ``lease_ttl_s`` None keeps the command's default."""

    def __init__(self, log_dir: pathlib.Path, etcd_endpoint: str, key_prefix: str, *, replica_id: str | None = None,
                 port: int | None = None, healthz_port: int | None = None, metrics_port: int | None = None,
                 lease_ttl_s: int | None = None, extra_args: Sequence[str] = (), name: str | None = None) -> None:
        self.port = port or free_port()
        self.healthz_port = healthz_port or free_port()
        self.metrics_port = metrics_port
        self.replica_id = replica_id or f"scheduler-{self.port}"
        self.address = f"127.0.0.1:{self.port}"
        argv = [*DAPRJOBS, "scheduler", "--id", self.replica_id, "--port", str(self.port),
                "--etcd-client-endpoints", etcd_endpoint, "--etcd-key-prefix", key_prefix,
                "--healthz-port", str(self.healthz_port)]
        if lease_ttl_s is not None:
            argv += ["--lease-ttl", str(lease_ttl_s)]
        if metrics_port is not None:
            argv += ["--metrics-port", str(metrics_port)]
        name = name or self.replica_id
        super().__init__(name, [*argv, *extra_args], log_dir / f"{name}.log", child_env())

    def healthz(self) -> int | None:
        """What ``/healthz`` answers (200 once joined and synced, 503 before), None while nothing listens."""
        return http_status(f"http://127.0.0.1:{self.healthz_port}/healthz")

    def ready(self) -> bool:
        return self.healthz() == 200

    async def wait_ready(self, timeout: float = 60.0) -> None:
        await eventually(self.ready, timeout, f"{self.name} ready", watch=[self])

    def metrics(self) -> dict[str, float]:
        if self.metrics_port is None:
            raise RuntimeError(f"{self.name} was started without --metrics-port")
        return scrape(self.metrics_port)

    def counter(self, name: str) -> float:
        """A counter by its Dapr name, with or without the ``_total`` suffix the Prometheus client adds."""
        return pick(self.metrics(), f"{name}_total", name) or 0.0

    def triggered(self) -> float:
        return self.counter("dapr_scheduler_jobs_triggered")

    def owned_jobs(self) -> float:
        return pick(self.metrics(), "daprjobs_scheduler_owned_jobs") or 0.0


class SidecarProcess(ChildProcess):
    """``daprjobs sidecar`` for ``app_id``; ``metrics_port`` None turns its metrics off (``--metrics-port 0``)."""

    def __init__(self, log_dir: pathlib.Path, app_id: str, scheduler_addresses: str, *, app_port: int | None = None,
                 app_protocol: str = "http", resources_path: pathlib.Path | None = None,
                 http_port: int | None = None, grpc_port: int | None = None, metrics_port: int | None = None,
                 env: dict[str, str] | None = None, extra_args: Sequence[str] = (), name: str | None = None) -> None:
        self.app_id = app_id
        self.app_port = app_port
        self.http_port = http_port or free_port()
        self.grpc_port = grpc_port or free_port()
        self.metrics_port = metrics_port
        self.base = f"http://127.0.0.1:{self.http_port}"
        argv = [*DAPRJOBS, "sidecar", "--app-id", app_id, "--app-protocol", app_protocol,
                "--dapr-http-port", str(self.http_port), "--dapr-grpc-port", str(self.grpc_port),
                "--scheduler-host-address", scheduler_addresses, "--metrics-port", str(metrics_port or 0)]
        if app_port is not None:
            argv += ["--app-port", str(app_port)]
        if resources_path is not None:
            argv += ["--resources-path", str(resources_path)]
        name = name or f"sidecar-{app_id}-{self.http_port}"
        super().__init__(name, [*argv, *extra_args], log_dir / f"{name}.log", child_env(**(env or {})))

    def healthy(self) -> bool:
        return http_ok(f"{self.base}/v1.0/healthz")

    async def wait_ready(self, timeout: float = 60.0) -> None:
        await eventually(self.healthy, timeout, f"{self.name} ready", watch=[self])

    async def metadata(self) -> dict[str, Any]:
        token = self.env.get("DAPR_API_TOKEN")
        async with httpx.AsyncClient(timeout=5.0) as client:
            resp = await client.get(f"{self.base}/v1.0/metadata", headers={"dapr-api-token": token} if token else {})
            return dict(resp.json())

    async def hosted_types(self) -> list[str]:
        """The actor types the sidecar's metadata lists as hosted (none while it does not answer)."""
        try:
            meta = await self.metadata()
        except (httpx.HTTPError, ValueError):
            return []
        return [str(a.get("type")) for a in meta.get("actors", []) if isinstance(a, dict)]

    def app_env(self) -> dict[str, str]:
        """What an SDK app needs to find this sidecar (and its own port)."""
        env = {"DAPR_HTTP_PORT": str(self.http_port), "DAPR_GRPC_PORT": str(self.grpc_port),
               "DAPR_RUNTIME_HOST": "127.0.0.1"}
        if self.app_port is not None:
            env["APP_PORT"] = str(self.app_port)
        return env

"""The bench's deployment: the tests' ``Deployment`` (etcd, schedulers, sidecars as processes) plus the bench's own
SDK apps (``bench.apps``), each with the probe the harness reads deliveries through."""

from __future__ import annotations

import sys

from bench.app_probe import AppProbe, DeliveryProbe, HttpAppProbe
from tests.support.deployment import AppHandle, Deployment, SidecarPorts
from tests.support.processes import child_env
from tests.support.waiting import wait_until

NAMESPACE = "default"


class BenchDeployment(Deployment):
    def start_job_app(self, name_specs: list[str], label: str = "app") -> AppHandle[DeliveryProbe]:
        """The ``dapr.ext.grpc`` bench app with handlers for ``PREFIX:COUNT`` names."""
        port = self.ports.take()
        argv = [sys.executable, "-m", "bench.apps.job_app", "--port", str(port)]
        for spec in name_specs:
            argv += ["--names", spec]
        probe: DeliveryProbe = AppProbe(port)
        app = self.start_app(label, argv, port, probe)
        self.sup.callback(probe.close)
        wait_until(probe.ready, 120, f"{label} on port {port}", interval=0.2, watch=[app.proc])
        return app

    def start_actor_app(self, sidecar_ports: SidecarPorts, label: str = "actor-app") -> AppHandle[DeliveryProbe]:
        """The FastAPI ``DaprActor`` bench app (HTTP). Not waited for: the SDK's actor runtime waits for its sidecar
        at start-up, so the sidecar (on ``sidecar_ports``) must be started next; ``wait_app`` afterwards."""
        port = self.ports.take()
        argv = [sys.executable, "-m", "bench.apps.actor_app", "--port", str(port)]
        env = child_env(DAPR_HTTP_PORT=str(sidecar_ports.http), DAPR_GRPC_PORT=str(sidecar_ports.grpc))
        probe: DeliveryProbe = HttpAppProbe(port)
        return self.start_app(label, argv, port, probe, env=env)


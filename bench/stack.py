"""A daprjobs deployment on 127.0.0.1, as a user runs it: etcd, schedulers, a sidecar and an app, each a process.

etcd is ``daprjobs.etcd.embedded.EtcdProcess``; schedulers are ``daprjobs scheduler ...``; the sidecar is
``daprjobs sidecar ...``; apps are real SDK apps (``bench.apps``). Everything is owned by a ``ProcessSupervisor``, so
it is all stopped when the scenario ends, however it ends.
"""

from __future__ import annotations

import pathlib
import sys
from dataclasses import dataclass, field
from typing import NamedTuple

from daprjobs.etcd.embedded import EtcdProcess

from bench.app_probe import AppProbe, DeliveryProbe, HttpAppProbe
from tests.support.metrics import pick, scrape
from bench.processes import (
    ManagedProcess,
    PortAllocator,
    ProcessSupervisor,
    child_env,
    http_ok,
    wait_until,
)

NAMESPACE = "default"
KEY_PREFIX = "dapr"


def _daprjobs_cli() -> list[str]:
    """The console script beside this interpreter, else ``python -m daprjobs.cli``."""
    script = pathlib.Path(sys.executable).parent / "daprjobs"
    return [str(script)] if script.exists() else [sys.executable, "-m", "daprjobs.cli"]


@dataclass
class SchedulerHandle:
    proc: ManagedProcess
    replica_id: str
    port: int
    healthz_port: int
    metrics_port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def metrics(self) -> dict[str, float]:
        return scrape(self.metrics_port)

    def triggered(self) -> float:
        return self.counter("dapr_scheduler_jobs_triggered")

    def counter(self, name: str) -> float:
        """A counter by its Dapr name, with or without the ``_total`` suffix the Prometheus client adds."""
        return pick(self.metrics(), f"{name}_total", name) or 0.0

    def owned_jobs(self) -> float:
        return pick(self.metrics(), "daprjobs_scheduler_owned_jobs") or 0.0

    def ready(self) -> bool:
        return http_ok(f"http://127.0.0.1:{self.healthz_port}/healthz")


@dataclass
class SidecarHandle:
    proc: ManagedProcess
    grpc_port: int
    http_port: int
    metrics_port: int

    def healthy(self) -> bool:
        return http_ok(f"http://127.0.0.1:{self.http_port}/v1.0/healthz")


class SidecarPorts(NamedTuple):
    grpc: int
    http: int
    metrics: int


@dataclass
class AppHandle:
    proc: ManagedProcess
    port: int
    probe: DeliveryProbe | None = None


@dataclass
class Stack:
    sup: ProcessSupervisor
    ports: PortAllocator
    workdir: pathlib.Path
    # Prefix of process names (and log files) when a scenario deploys more than once, e.g. "r3-".
    label: str = ""
    etcd: EtcdProcess | None = None
    etcd_proc: ManagedProcess | None = None
    schedulers: list[SchedulerHandle] = field(default_factory=list)
    sidecars: list[SidecarHandle] = field(default_factory=list)
    apps: list[AppHandle] = field(default_factory=list)

    @property
    def etcd_endpoint(self) -> str:
        if self.etcd is None:
            raise RuntimeError("etcd not started")
        return self.etcd.endpoint

    def start_etcd(self) -> EtcdProcess:
        """etcd configured by ``EtcdProcess`` (the command daprjobs itself runs), started under the supervisor so it
        gets the same guaranteed cleanup as every other child."""
        etcd = EtcdProcess(data_dir=self.workdir / f"{self.label}etcd", client_port=self.ports.take(),
                           peer_port=self.ports.take())
        etcd.data_dir.mkdir(parents=True, exist_ok=True)
        # etcd reads ETCD_* variables as flags and refuses to start when they clash with the command line.
        env = {k: v for k, v in child_env().items() if not k.startswith("ETCD_")}
        self.etcd_proc = self.sup.start(f"{self.label}etcd", etcd.command(), env=env)
        wait_until(lambda: http_ok(f"{etcd.endpoint}/health"), 60, "etcd health", watch=[self.etcd_proc])
        self.etcd = etcd
        return etcd

    def start_scheduler(self, index: int = 0, wait: bool = True, extra_args: list[str] | None = None,
                        ports: tuple[int, int, int] | None = None) -> SchedulerHandle:
        """Replica ``dapr-scheduler-server-<index>``; ``ports`` (grpc, healthz, metrics) to restart on the same."""
        replica_id = f"dapr-scheduler-server-{index}"
        port, healthz, metrics = ports or (self.ports.take(), self.ports.take(), self.ports.take())
        argv = [*_daprjobs_cli(), "scheduler", "--id", replica_id, "--port", str(port),
                "--etcd-client-endpoints", self.etcd_endpoint, "--healthz-port", str(healthz),
                "--metrics-port", str(metrics), "--etcd-key-prefix", KEY_PREFIX, *(extra_args or [])]
        proc = self.sup.start(f"{self.label}scheduler-{index}", argv, env=child_env())
        handle = SchedulerHandle(proc, replica_id, port, healthz, metrics)
        self.schedulers.append(handle)
        if wait:
            wait_until(handle.ready, 60, f"scheduler {replica_id} healthz", watch=[proc])
        return handle

    def stop_scheduler(self, handle: SchedulerHandle) -> int | None:
        """Stop one replica (SIGTERM: it leaves membership at once) and forget it."""
        code = handle.proc.stop()
        if handle in self.schedulers:
            self.schedulers.remove(handle)
        return code

    def start_job_app(self, name_specs: list[str], label: str = "app") -> AppHandle:
        """The ``dapr.ext.grpc`` bench app with handlers for ``PREFIX:COUNT`` names."""
        port = self.ports.take()
        argv = [sys.executable, "-m", "bench.apps.job_app", "--port", str(port)]
        for spec in name_specs:
            argv += ["--names", spec]
        proc = self.sup.start(f"{self.label}{label}", argv, env=child_env())
        probe = AppProbe(port)
        self.sup.callback(probe.close)
        wait_until(probe.ready, 120, f"{label} on port {port}", interval=0.2, watch=[proc])
        handle = AppHandle(proc, port, probe)
        self.apps.append(handle)
        return handle

    def start_actor_app(self, sidecar_ports: SidecarPorts, label: str = "actor-app") -> AppHandle:
        """The FastAPI ``DaprActor`` bench app (HTTP). Not waited for: the SDK's actor runtime waits for its sidecar
        at start-up, so the sidecar (on ``sidecar_ports``) must be started next; ``wait_app`` afterwards."""
        port = self.ports.take()
        argv = [sys.executable, "-m", "bench.apps.actor_app", "--port", str(port)]
        env = child_env(DAPR_HTTP_PORT=str(sidecar_ports.http), DAPR_GRPC_PORT=str(sidecar_ports.grpc))
        proc = self.sup.start(f"{self.label}{label}", argv, env=env)
        handle = AppHandle(proc, port, HttpAppProbe(port))
        self.apps.append(handle)
        return handle

    def wait_app(self, app: AppHandle, timeout: float = 120) -> None:
        assert app.probe is not None
        wait_until(app.probe.ready, timeout, f"{app.proc.name} on port {app.port}", interval=0.2, watch=[app.proc])

    def sidecar_ports(self) -> SidecarPorts:
        return SidecarPorts(self.ports.take(), self.ports.take(), self.ports.take())

    def start_sidecar(self, app_id: str, app_port: int, app_protocol: str = "grpc",
                      extra_args: list[str] | None = None, label: str = "sidecar",
                      ports: SidecarPorts | None = None) -> SidecarHandle:
        grpc_port, http_port, metrics = ports or self.sidecar_ports()
        hosts = ",".join(s.address for s in self.schedulers)
        argv = [*_daprjobs_cli(), "sidecar", "--app-id", app_id, "--app-port", str(app_port),
                "--app-protocol", app_protocol, "--dapr-grpc-port", str(grpc_port),
                "--dapr-http-port", str(http_port), "--metrics-port", str(metrics),
                "--scheduler-host-address", hosts, *(extra_args or [])]
        proc = self.sup.start(f"{self.label}{label}", argv, env=child_env())
        handle = SidecarHandle(proc, grpc_port, http_port, metrics)
        wait_until(handle.healthy, 60, f"{label} healthz", interval=0.1, watch=[proc])
        self.sidecars.append(handle)
        return handle

    def wait_streams(self, per_scheduler: int = 1, timeout: float = 60) -> float:
        """Wait until every scheduler has at least ``per_scheduler`` sidecar streams connected."""

        def connected() -> bool:
            try:
                return all((pick(s.metrics(), "dapr_scheduler_sidecars_connected") or 0) >= per_scheduler
                           for s in self.schedulers)
            except OSError:
                return False

        watch = [s.proc for s in self.schedulers] + [s.proc for s in self.sidecars]
        return wait_until(connected, timeout, "sidecar streams on every scheduler", interval=0.1, watch=watch)

    def stop_all(self) -> None:
        """Stop this deployment's processes, newest first (the supervisor would do it at the end anyway)."""
        for proc in reversed(self.sup.processes):
            if proc.name.startswith(self.label):
                proc.stop()
        self.schedulers.clear()
        self.sidecars.clear()
        self.apps.clear()
        self.etcd = None

    def watched(self) -> list[ManagedProcess]:
        return [p for p in self.sup.processes if p.alive]

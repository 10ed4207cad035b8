"""A daprjobs deployment on 127.0.0.1, as a user runs it: etcd, schedulers, sidecars and apps, each a process.

etcd is run with the command ``daprjobs.etcd.embedded.EtcdProcess`` builds; schedulers and sidecars are
``SchedulerProcess`` / ``SidecarProcess``; apps are whatever command the caller gives. Everything is owned by a
``ProcessSupervisor``, so all of it is stopped when the test or scenario ends, however it ends.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from daprjobs.etcd.embedded import EtcdProcess

from tests.support.daprjobs_processes import SchedulerProcess, SidecarProcess
from tests.support.metrics import pick
from tests.support.processes import ChildProcess, PortAllocator, ProcessSupervisor, child_env, http_ok
from tests.support.waiting import wait_until

KEY_PREFIX = "dapr"


class SidecarPorts(NamedTuple):
    grpc: int
    http: int
    metrics: int


class AppProbe(Protocol):
    """How the deployment tells that an app is up."""

    def ready(self) -> bool: ...


ProbeT = TypeVar("ProbeT", bound=AppProbe)


@dataclass
class AppHandle(Generic[ProbeT]):
    proc: ChildProcess
    port: int
    probe: ProbeT | None = None


@dataclass
class Deployment:
    sup: ProcessSupervisor
    ports: PortAllocator
    workdir: pathlib.Path
    # Prefix of process names (and log files) when one run deploys more than once, e.g. "r3-".
    label: str = ""
    key_prefix: str = KEY_PREFIX
    etcd: EtcdProcess | None = None
    etcd_proc: ChildProcess | None = None
    schedulers: list[SchedulerProcess] = field(default_factory=list)
    sidecars: list[SidecarProcess] = field(default_factory=list)
    apps: list[AppHandle[Any]] = field(default_factory=list)

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

    def start_scheduler(self, index: int = 0, wait: bool = True, extra_args: Sequence[str] = (),
                        ports: tuple[int, int, int] | None = None) -> SchedulerProcess:
        """Replica ``dapr-scheduler-server-<index>``; ``ports`` (grpc, healthz, metrics) to restart on the same."""
        port, healthz, metrics = ports or (self.ports.take(), self.ports.take(), self.ports.take())
        replica = SchedulerProcess(self.sup.log_dir, self.etcd_endpoint, self.key_prefix,
                                   replica_id=f"dapr-scheduler-server-{index}", port=port, healthz_port=healthz,
                                   metrics_port=metrics, extra_args=extra_args,
                                   name=f"{self.label}scheduler-{index}")
        self.sup.adopt(replica).start()
        self.schedulers.append(replica)
        if wait:
            wait_until(replica.ready, 60, f"scheduler {replica.replica_id} healthz", watch=[replica])
        return replica

    def stop_scheduler(self, replica: SchedulerProcess) -> int | None:
        """Stop one replica (SIGTERM: it leaves membership at once) and forget it."""
        code = replica.stop()
        if replica in self.schedulers:
            self.schedulers.remove(replica)
        return code

    def sidecar_ports(self) -> SidecarPorts:
        return SidecarPorts(self.ports.take(), self.ports.take(), self.ports.take())

    def start_sidecar(self, app_id: str, app_port: int, app_protocol: str = "grpc", extra_args: Sequence[str] = (),
                      label: str = "sidecar", ports: SidecarPorts | None = None) -> SidecarProcess:
        grpc_port, http_port, metrics = ports or self.sidecar_ports()
        sidecar = SidecarProcess(self.sup.log_dir, app_id, ",".join(s.address for s in self.schedulers),
                                 app_port=app_port, app_protocol=app_protocol, http_port=http_port,
                                 grpc_port=grpc_port, metrics_port=metrics, extra_args=extra_args,
                                 name=f"{self.label}{label}")
        self.sup.adopt(sidecar).start()
        wait_until(sidecar.healthy, 60, f"{label} healthz", interval=0.1, watch=[sidecar])
        self.sidecars.append(sidecar)
        return sidecar

    def start_app(self, label: str, argv: list[str], port: int, probe: ProbeT | None = None,
                  env: dict[str, str] | None = None) -> AppHandle[ProbeT]:
        """An app process on ``port``, not waited for (``wait_app`` does, through its probe)."""
        proc = self.sup.start(f"{self.label}{label}", argv, env=env or child_env())
        handle = AppHandle(proc, port, probe)
        self.apps.append(handle)
        return handle

    def wait_app(self, app: AppHandle[Any], timeout: float = 120) -> None:
        assert app.probe is not None
        wait_until(app.probe.ready, timeout, f"{app.proc.name} on port {app.port}", interval=0.2, watch=[app.proc])

    def wait_streams(self, per_scheduler: int = 1, timeout: float = 60) -> float:
        """Wait until every scheduler has at least ``per_scheduler`` sidecar streams connected."""

        def connected() -> bool:
            try:
                return all((pick(s.metrics(), "dapr_scheduler_sidecars_connected") or 0) >= per_scheduler
                           for s in self.schedulers)
            except OSError:
                return False

        watch = [*self.schedulers, *self.sidecars]
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

    def watched(self) -> list[ChildProcess]:
        return [p for p in self.sup.processes if p.alive]

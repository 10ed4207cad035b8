"""One deployment for one scenario: etcd (one member, or three), three scheduler replicas, a sidecar, the app; and
the load: one-shot jobs due at a steady rate, scheduled through the sidecar's HTTP Jobs API."""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import time
from dataclasses import dataclass, field

import aiohttp
from daprjobs.core.rfc3339 import format_rfc3339
from daprjobs.etcd.cluster import EtcdCluster

from chaos.app import JobApp
from chaos.ledger import NS, Ledger
from tests.support.daprjobs_processes import SchedulerProcess, SidecarProcess
from tests.support.deployment import Deployment
from tests.support.processes import PortAllocator, ProcessSupervisor
from tests.support.waiting import WaitTimedOut, eventually, wait_until

APP_ID = "chaos-app"
REPLICAS = 3
LEASE_TTL_S = 3


class ChaosDeployment(Deployment):
    """The tests' deployment, with an optional three-member etcd cluster under it."""

    cluster: EtcdCluster | None = None

    @property
    def etcd_endpoint(self) -> str:
        if self.cluster is not None:
            return ",".join(self.cluster.endpoints)
        return super().etcd_endpoint


@dataclass
class ChaosStack:
    workdir: pathlib.Path
    sup: ProcessSupervisor
    ledger: Ledger = field(default_factory=Ledger)
    deployment: ChaosDeployment = field(init=False)
    app: JobApp = field(init=False)
    sidecar: SidecarProcess = field(init=False)

    def __post_init__(self) -> None:
        self.deployment = ChaosDeployment(self.sup, PortAllocator(), self.workdir)
        self.app = JobApp(self.deployment.ports.take(), self.ledger)

    @property
    def schedulers(self) -> list[SchedulerProcess]:
        return self.deployment.schedulers

    async def start(self, etcd_members: int = 1, seed_only: bool = False) -> None:
        d = self.deployment
        if etcd_members > 1:
            d.cluster = EtcdCluster(self.workdir / "etcd-cluster", size=etcd_members)
            self.sup.callback(d.cluster.stop)
            await asyncio.to_thread(d.cluster.start)
        else:
            await asyncio.to_thread(d.start_etcd)
        for i in range(REPLICAS):
            await asyncio.to_thread(d.start_scheduler, i, True, ("--lease-ttl", str(LEASE_TTL_S)))
        await self.app.start()
        seeds = d.schedulers[0].address if seed_only else ",".join(s.address for s in d.schedulers)
        ports = d.sidecar_ports()
        self.sidecar = SidecarProcess(self.sup.log_dir, APP_ID, seeds, app_port=self.app.port, app_protocol="http",
                                      http_port=ports.http, grpc_port=ports.grpc, metrics_port=ports.metrics,
                                      name="sidecar")
        await self.start_sidecar()
        await asyncio.to_thread(d.wait_streams, 1)

    async def start_sidecar(self) -> None:
        self.sup.adopt(self.sidecar).start()
        await asyncio.to_thread(wait_until, self.sidecar.healthy, 60, "sidecar healthz", interval=0.1,
                                watch=[self.sidecar])

    async def schedule(self, names_due: list[tuple[str, int]], concurrency: int = 16) -> None:
        """POST each job (``dueTime`` as an RFC 3339 instant); a refused call is recorded, not raised."""
        slots = asyncio.Semaphore(concurrency)
        timeout = aiohttp.ClientTimeout(total=40)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async def one(name: str, due_ns: int) -> None:
                body = {"dueTime": format_rfc3339(due_ns), "data": {"n": name}}
                async with slots:
                    try:
                        async with http.post(f"{self.sidecar.base}/v1.0/jobs/{name}", json=body) as resp:
                            await resp.read()
                            ok = resp.status == 204
                    except (aiohttp.ClientError, TimeoutError):
                        ok = False
                if ok:
                    self.ledger.due_ns[name] = due_ns
                else:
                    self.ledger.refused.append(name)

            await asyncio.gather(*(one(n, due) for n, due in names_due))

    async def settle(self, last_due_ns: int, quiet_s: float, limit_s: float = 60.0) -> None:
        """Wait until every scheduled job arrived (or ``limit_s`` after the last due time), then ``quiet_s`` more
        for late duplicates (a kill -9's re-fires come after the lease TTL)."""
        limit = max(0.0, (last_due_ns - time.time_ns()) / NS) + limit_s
        with contextlib.suppress(WaitTimedOut):  # what never arrived is counted as lost
            await eventually(self.ledger.all_delivered, limit, "every job delivered", interval=0.2)
        await asyncio.sleep(quiet_s)

    async def stop(self) -> None:
        await self.app.stop()


def steady_load(prefix: str, start_ns: int, seconds: float, per_second: int) -> list[tuple[str, int]]:
    step = NS // per_second
    return [(f"{prefix}{i:05d}", start_ns + i * step) for i in range(int(seconds * per_second))]



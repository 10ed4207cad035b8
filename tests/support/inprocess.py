"""daprjobs in the test's own process: scheduler replicas and sidecars on free ports (fast, and inspectable).

- ``scheduler_config``: a replica's configuration on a given etcd, key prefix and port.
- ``InProcessStack``: one in-process replica (own key prefix) plus a ``Sidecar``; ``start_stack`` builds one and
  ``stop_stacks`` stops many, reporting any part that hangs.
- ``in_own_loop``: run an async SDK scenario on another thread's event loop.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.scheduler.server import SchedulerConfig, SchedulerReplica
from daprjobs.sidecar.assembly import jobs_only
from daprjobs.sidecar.config import SidecarConfig
from daprjobs.sidecar.server import Sidecar

T = TypeVar("T")


def unique_prefix() -> str:
    """An etcd key prefix of its own, so tests sharing one etcd do not see each other's jobs."""
    return f"t{uuid.uuid4().hex[:10]}"


def scheduler_config(etcd_endpoint: str, key_prefix: str, port: int, *, replica_id: str | None = None,
                     lease_ttl_s: int = 5, **overrides: Any) -> SchedulerConfig:
    """A replica on 127.0.0.1:``port`` (no healthz or metrics port unless ``overrides`` give one)."""
    settings: dict[str, Any] = {"healthz_port": None, "metrics_port": None, **overrides}
    return SchedulerConfig(replica_id=replica_id or f"replica-{key_prefix}", listen_host="127.0.0.1", port=port,
                           etcd_endpoints=[etcd_endpoint], key_prefix=key_prefix, lease_ttl_s=lease_ttl_s,
                           **settings)


@dataclass
class InProcessStack:
    etcd: EtcdProcess
    key_prefix: str
    scheduler_port: int
    replica: SchedulerReplica | None
    sidecar: Sidecar

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.sidecar.http_port}"

    @property
    def grpc_address(self) -> str:
        return f"127.0.0.1:{self.sidecar.grpc_port}"

    def scheduler_config(self) -> SchedulerConfig:
        return scheduler_config(self.etcd.endpoint, self.key_prefix, self.scheduler_port)

    async def stop_scheduler(self) -> None:
        if self.replica is not None:
            await self.replica.stop()
            self.replica = None

    async def start_scheduler(self) -> None:
        assert self.replica is None
        replica = SchedulerReplica(self.scheduler_config())
        await replica.start()
        self.replica = replica


StackFactory = Callable[..., Awaitable[InProcessStack]]


async def start_stack(etcd: EtcdProcess, app_id: str, **overrides: Any) -> InProcessStack:
    """A replica (own key prefix) and a sidecar for ``app_id``; ``overrides`` are ``SidecarConfig`` fields.

    The sidecar is not started: the caller records the stack first (so it is stopped even if the start fails), then
    starts ``stack.sidecar``.
    """
    prefix = unique_prefix()
    port = free_port()
    replica = SchedulerReplica(scheduler_config(etcd.endpoint, prefix, port))
    await replica.start()
    settings: dict[str, Any] = {
        "app_id": app_id, "dapr_http_port": free_port(), "dapr_grpc_port": free_port(),
        "scheduler_host_addresses": [replica.address], "metrics_port": None,
        "etcd_endpoints": [etcd.endpoint], "app_health_probe_interval_s": 0.5,
    }
    settings.update(overrides)
    sidecar = Sidecar(SidecarConfig(**settings), blocks=jobs_only)
    return InProcessStack(etcd=etcd, key_prefix=prefix, scheduler_port=port, replica=replica, sidecar=sidecar)


async def stop_stacks(stacks: list[InProcessStack], timeout: float = 60) -> None:
    """Stop each stack's sidecar then its replica, newest first; fail naming every part that did not stop in time."""
    hung: list[str] = []
    for stack in reversed(stacks):
        for part, stop in (("sidecar", stack.sidecar.stop), ("scheduler", stack.stop_scheduler)):
            try:
                await asyncio.wait_for(stop(), timeout)
            except TimeoutError:
                hung.append(f"{part} of {stack.sidecar.config.app_id}")
            except Exception:
                pass  # a part that fails to stop cleanly is still stopped
    assert not hung, f"did not stop within {timeout} s: {hung}"


async def in_own_loop(scenario: Callable[[], Awaitable[T]]) -> T:
    """Run an async SDK scenario on another thread's event loop.

    ``dapr.aio`` clients wait for the sidecar with a *blocking* health check in their constructor; on the
    test's loop that would freeze the in-process sidecar it is waiting for.
    """
    return await asyncio.to_thread(lambda: asyncio.run(scenario()))  # type: ignore[arg-type]

"""Sidecar test harness: stacks (scheduler replica + sidecar) and real apps that record job triggers.

- ``Stack``: an in-process scheduler replica (own etcd key prefix) plus a ``Sidecar`` on free ports.
- ``HttpJobApp``: an aiohttp app serving ``POST /job/{name}`` that records each trigger and answers with
  scripted statuses.
- ``GrpcJobApp``: an unmodified ``dapr.ext.grpc.App`` in a thread, recording each ``JobEvent``.
"""

from __future__ import annotations

import asyncio
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import web
from dapr.ext.grpc import App, JobEvent
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.scheduler.server import SchedulerConfig, SchedulerReplica
from daprjobs.sidecar.server import Sidecar

DEADLINE_S = 30.0
T = TypeVar("T")


@dataclass
class Stack:
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
        return scheduler_config(self.etcd, self.key_prefix, self.scheduler_port)

    async def stop_scheduler(self) -> None:
        if self.replica is not None:
            await self.replica.stop()
            self.replica = None

    async def start_scheduler(self) -> None:
        assert self.replica is None
        replica = SchedulerReplica(self.scheduler_config())
        await replica.start()
        self.replica = replica


def scheduler_config(etcd: EtcdProcess, key_prefix: str, port: int) -> SchedulerConfig:
    return SchedulerConfig(replica_id=f"replica-{key_prefix}", listen_host="127.0.0.1", port=port,
                           etcd_endpoints=[etcd.endpoint], key_prefix=key_prefix, lease_ttl_s=5,
                           healthz_port=None, metrics_port=None)


StackFactory = Callable[..., Awaitable[Stack]]


@dataclass
class HttpTrigger:
    name: str
    body: bytes
    headers: dict[str, str]
    path: str


@dataclass
class HttpJobApp:
    """``POST /job/{name}``: records the trigger, answers the next scripted status for that name (else 200)."""

    port: int = field(default_factory=free_port)
    triggers: list[HttpTrigger] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/job/{name}", self._on_job)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _on_job(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        async with self._arrived:
            self.triggers.append(HttpTrigger(name, body, dict(request.headers), request.path))
            self._arrived.notify_all()
        script = self.statuses.get(name)
        status = script.pop(0) if script else 200
        return web.Response(status=status)

    def named(self, name: str) -> list[HttpTrigger]:
        return [t for t in self.triggers if t.name == name]

    async def wait_for(self, name: str, count: int = 1, timeout: float = DEADLINE_S) -> list[HttpTrigger]:
        async def enough() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.named(name)) >= count)

        try:
            await asyncio.wait_for(enough(), timeout)
        except TimeoutError:
            raise AssertionError(f"{len(self.named(name))} of {count} triggers of {name!r} arrived "
                                 f"within {timeout}s; all: {[t.name for t in self.triggers]}") from None
        return self.named(name)


class GrpcJobApp:
    """An unmodified ``dapr.ext.grpc.App`` with handlers for ``names``, served from a thread."""

    def __init__(self, names: list[str], port: int | None = None) -> None:
        self.port = port or free_port()
        self.names = names
        self.events: queue.Queue[JobEvent] = queue.Queue()
        self._app: App | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        app = App()
        for name in self.names:
            app.job_event(name)(self.events.put)
        self._app = app
        self._thread = threading.Thread(target=app.run, args=(self.port, "127.0.0.1"), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._app is not None:
            self._app.stop()
            self._app = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    async def next_event(self, timeout: float = DEADLINE_S) -> JobEvent:
        try:
            return await asyncio.to_thread(self.events.get, True, timeout)
        except queue.Empty:
            raise AssertionError(f"no job event within {timeout}s") from None


async def in_own_loop(scenario: Callable[[], Awaitable[T]]) -> T:
    """Run an async SDK scenario on another thread's event loop.

    ``dapr.aio`` clients wait for the sidecar with a *blocking* health check in their constructor; on the
    test's loop that would freeze the in-process sidecar it is waiting for.
    """
    return await asyncio.to_thread(lambda: asyncio.run(scenario()))  # type: ignore[arg-type]


class SchedulerProcess:
    """A real ``daprjobs scheduler`` process at a fixed port, so ``kill -9`` is real."""

    def __init__(self, etcd_endpoint: str, key_prefix: str, port: int, log_path: str) -> None:
        self.etcd_endpoint = etcd_endpoint
        self.key_prefix = key_prefix
        self.port = port
        self.healthz_port = free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _spawn(self) -> subprocess.Popen[bytes]:
        with open(self.log_path, "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "daprjobs", "scheduler", "--id", f"replica-{self.key_prefix}",
                 "--port", str(self.port), "--etcd-client-endpoints", self.etcd_endpoint,
                 "--etcd-key-prefix", self.key_prefix, "--lease-ttl", "3", "--healthz-port", str(self.healthz_port)],
                stdout=log, stderr=log, start_new_session=True)

    async def start(self, timeout: float = DEADLINE_S) -> None:
        self.proc = await asyncio.to_thread(self._spawn)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"scheduler exited early, see {self.log_path}")
            if await asyncio.to_thread(self._healthy):
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"scheduler not ready in {timeout}s, see {self.log_path}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.healthz_port}/healthz", timeout=1) as resp:
                return int(resp.status) == 200
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None


async def eventually(predicate: Callable[[], object], timeout: float = DEADLINE_S, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(0.05)

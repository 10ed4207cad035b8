"""One app under ``daprjobs run``: its sidecar (in the run's process) and its command (a child process).

The child gets ``DAPR_HTTP_PORT``, ``DAPR_GRPC_PORT``, ``APP_ID`` and ``APP_PORT``; with a ``prefix`` (several apps)
each line it prints is shown as ``== <app id> == <line>``. Stopping sends SIGTERM to its process group, SIGKILL
after a grace period, then stops the sidecar.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
import signal
import sys
from typing import TYPE_CHECKING

from daprjobs.run.controlplane import say
from daprjobs.sidecar.config import SidecarConfig

if TYPE_CHECKING:
    from daprjobs.scheduler.local_endpoint import LocalEndpoint
    from daprjobs.sidecar.server import Sidecar

APP_STOP_GRACE_S = 5.0


def app_environment(config: SidecarConfig, http_port: int, grpc_port: int, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env["DAPR_HTTP_PORT"] = str(http_port)
    env["DAPR_GRPC_PORT"] = str(grpc_port)
    env["APP_ID"] = config.app_id
    if config.app_port:
        env["APP_PORT"] = str(config.app_port)
    # So the app's prints show up as they happen, not when its buffer fills.
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


class AppRun:
    def __init__(self, config: SidecarConfig, command: list[str], cwd: pathlib.Path | None = None,
                 env: dict[str, str] | None = None, prefix: bool = False) -> None:
        self.config = config
        self.command = command
        self.cwd = cwd
        self.env = env or {}
        self.prefix = f"== {config.app_id} == " if prefix else ""
        self.sidecar: Sidecar | None = None
        self.process: asyncio.subprocess.Process | None = None
        self._pumps: list[asyncio.Task[None]] = []

    async def start_sidecar(self, local_scheduler: LocalEndpoint | None = None) -> None:
        """``local_scheduler``: the run's own replica, which the sidecar then calls in-process (no gRPC hop)."""
        from daprjobs.sidecar.server import Sidecar

        cfg = self.config
        self.sidecar = Sidecar(cfg, local_scheduler=local_scheduler)
        await self.sidecar.start()
        say(f"sidecar for app '{cfg.app_id}': HTTP API on {cfg.listen_host}:{self.sidecar.http_port}, "
            f"gRPC API on {cfg.listen_host}:{self.sidecar.grpc_port}"
            + (f", metrics on :{self.sidecar.metrics_port}/metrics" if self.sidecar.metrics_port else ""))
        components = ", ".join(f"{c.name} ({c.type})" for c in cfg.resources) or "none"
        say(f"components of '{cfg.app_id}': {components}")
        if cfg.app_port:
            say(f"app '{cfg.app_id}' expected on {cfg.app_host}:{cfg.app_port} ({cfg.app_protocol})")

    async def start_app(self) -> None:
        assert self.sidecar is not None
        if not self.command:
            return
        env = app_environment(self.config, self.sidecar.http_port, self.sidecar.grpc_port, self.env)
        piped = asyncio.subprocess.PIPE if self.prefix else None
        self.process = await asyncio.create_subprocess_exec(
            *self.command, env=env, cwd=self.cwd, start_new_session=True, stdout=piped, stderr=piped)
        if self.prefix:
            assert self.process.stdout is not None and self.process.stderr is not None
            self._pumps = [asyncio.create_task(self._pump(self.process.stdout, sys.stdout)),
                           asyncio.create_task(self._pump(self.process.stderr, sys.stderr))]
        say(f"app started: {' '.join(self.command)} (app '{self.config.app_id}', pid {self.process.pid})")

    async def _pump(self, stream: asyncio.StreamReader, out: object) -> None:
        while line := await stream.readline():
            print(self.prefix + line.decode(errors="replace").rstrip("\n"), file=out, flush=True)  # type: ignore[call-overload]

    async def wait(self) -> int:
        assert self.process is not None
        code = await self.process.wait()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        return code

    async def stop(self) -> None:
        proc = self.process
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), APP_STOP_GRACE_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        if self.sidecar is not None:
            await self.sidecar.stop()
            self.sidecar = None

"""Real processes for the actor integration tests: a scheduler, sidecars and SDK actor apps.

Every part is a real process on 127.0.0.1 with free ports (``kill -9`` is real); apps report what they saw
(activations, reminders, timers) as JSON lines in an events file the tests read.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
from daprjobs.etcd.embedded import free_port

APPS = pathlib.Path(__file__).parent / "apps"
NODE_DIR = pathlib.Path(__file__).parent.parent / "node"


class Proc:
    """One child process with its own log file; killed (whole group) at teardown."""

    def __init__(self, name: str, cmd: list[str], log_path: pathlib.Path, env: dict[str, str] | None = None,
                 cwd: pathlib.Path | None = None) -> None:
        self.name = name
        self.cmd = cmd
        self.log_path = log_path
        self.env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=log, env=self.env, cwd=self.cwd,
                                     start_new_session=True)
        log.close()
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL, no goodbye."""
        if self.alive:
            assert self.proc is not None
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if not self.alive:
            return
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


async def eventually(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1,
                     what: str = "condition", procs: list[Proc] | None = None) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    logs = "\n".join(f"--- {p.name} ---\n{p.log_tail()}" for p in procs or [])
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})\n{logs}")


async def http_ok(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            resp = await client.get(url)
            return resp.status_code < 300
    except httpx.HTTPError:
        return False


def write_components(directory: pathlib.Path, etcd_endpoint: str, key_prefix: str = "actorstate") -> pathlib.Path:
    directory.mkdir(parents=True, exist_ok=True)
    host_port = etcd_endpoint.split("://", 1)[-1]
    (directory / "components.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\n"
        "kind: Component\n"
        "metadata:\n"
        "  name: actorstatestore\n"
        "spec:\n"
        "  type: state.etcd\n"
        "  version: v2\n"
        "  metadata:\n"
        "    - name: endpoints\n"
        f"      value: {host_port}\n"
        "    - name: keyPrefixPath\n"
        f"      value: {key_prefix}\n"
        "    - name: actorStateStore\n"
        '      value: "true"\n'
    )
    return directory


class Scheduler(Proc):
    def __init__(self, tmp: pathlib.Path, etcd_endpoint: str, key_prefix: str) -> None:
        self.port = free_port()
        self.healthz_port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        super().__init__(
            "scheduler",
            [sys.executable, "-m", "daprjobs", "scheduler", "--id", f"sched-{self.port}", "--port", str(self.port),
             "--etcd-client-endpoints", etcd_endpoint, "--etcd-key-prefix", key_prefix, "--lease-ttl", "3",
             "--healthz-port", str(self.healthz_port)],
            tmp / f"scheduler-{self.port}.log",
        )

    async def ready(self, timeout: float = 60.0) -> None:
        await eventually(lambda: http_ok(f"http://127.0.0.1:{self.healthz_port}/healthz"), timeout,
                         what="scheduler ready", procs=[self])


class Sidecar(Proc):
    def __init__(self, tmp: pathlib.Path, app_id: str, scheduler: str, resources: pathlib.Path,
                 app_port: int | None = None, app_protocol: str = "http", http_port: int | None = None,
                 grpc_port: int | None = None, env: dict[str, str] | None = None) -> None:
        self.app_id = app_id
        self.app_port = app_port
        self.http_port = http_port or free_port()
        self.grpc_port = grpc_port or free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        cmd = [sys.executable, "-m", "daprjobs", "sidecar", "--log-level", "info", "--app-id", app_id,
               "--dapr-http-port", str(self.http_port), "--dapr-grpc-port", str(self.grpc_port),
               "--scheduler-host-address", scheduler, "--resources-path", str(resources), "--metrics-port", "0",
               "--app-protocol", app_protocol]
        if app_port is not None:
            cmd += ["--app-port", str(app_port)]
        super().__init__(f"sidecar-{app_id}-{self.http_port}", cmd, tmp / f"sidecar-{self.http_port}.log", env)

    async def ready(self, timeout: float = 60.0) -> None:
        await eventually(lambda: http_ok(f"{self.base}/v1.0/healthz"), timeout, what=f"{self.name} ready",
                         procs=[self])

    async def metadata(self) -> dict[str, Any]:
        token = self.env.get("DAPR_API_TOKEN")
        async with httpx.AsyncClient(timeout=5.0) as client:
            resp = await client.get(f"{self.base}/v1.0/metadata", headers={"dapr-api-token": token} if token else {})
            return dict(resp.json())

    async def hosted_types(self) -> list[str]:
        try:
            meta = await self.metadata()
        except (httpx.HTTPError, ValueError):
            return []
        return [a.get("type") for a in meta.get("actors", []) if isinstance(a, dict)]

    def app_env(self) -> dict[str, str]:
        env = {"DAPR_HTTP_PORT": str(self.http_port), "DAPR_GRPC_PORT": str(self.grpc_port),
               "DAPR_RUNTIME_HOST": "127.0.0.1"}
        if self.app_port is not None:
            env["APP_PORT"] = str(self.app_port)
        return env


class Events:
    """The JSON lines an actor app appends for each thing it saw."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path

    def all(self) -> list[dict[str, Any]]:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass  # a line being written right now
        return out

    def of(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        return [e for e in self.all() if e.get("kind") == kind and all(e.get(k) == v for k, v in match.items())]

    async def wait(self, kind: str, count: int = 1, timeout: float = 30.0, procs: list[Proc] | None = None,
                   **match: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await eventually(
            lambda: (lambda got: got if len(got) >= count else None)(self.of(kind, **match)),
            timeout, what=f"{count} x {kind} {match}", procs=procs,
        )
        return found


def python_app(tmp: pathlib.Path, script: str, sidecar: Sidecar, events: Events, name: str,
               extra_env: dict[str, str] | None = None) -> Proc:
    env = {**sidecar.app_env(), "ACTOR_EVENTS_FILE": str(events.path), **(extra_env or {})}
    return Proc(name, [sys.executable, str(APPS / script)], tmp / f"{name}.log", env)

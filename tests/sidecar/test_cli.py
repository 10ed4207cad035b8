"""The commands as users run them: `daprjobs run`, `daprjobs sidecar`, and each quickstart's one command."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.scheduler.server import SchedulerReplica

from .harness import scheduler_config

REPO = pathlib.Path(__file__).resolve().parents[2]
DAPRJOBS = [sys.executable, "-m", "daprjobs"]


class Proc:
    """A child process in its own session whose output is collected; always killed at the end."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, cwd: pathlib.Path = REPO) -> None:
        self.popen = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd,
                                      env=dict(os.environ, **(env or {})), start_new_session=True)
        self.lines: list[str] = []

    def wait_for_line(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """Read output until a line matches (blocking; the output is line-buffered by the child)."""
        deadline = time.monotonic() + timeout
        assert self.popen.stdout is not None
        while time.monotonic() < deadline:
            line = self.popen.stdout.readline().decode(errors="replace")
            if not line:
                break
            self.lines.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern!r}; output:\n{''.join(self.lines)}")

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        out, _ = self.popen.communicate(timeout=timeout)
        self.lines.append(out.decode(errors="replace"))
        return self.popen.returncode, "".join(self.lines)

    def kill(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    try:
        yield started
    finally:
        for proc in started:
            proc.kill()


def http(method: str, url: str, body: object = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
@pytest.mark.parametrize(("quickstart", "expected"), [
    ("jobs-grpc", ["job delivered: nightly-backup", "job delivered: backup-now", "demo complete: 3 jobs delivered"]),
    ("jobs-http", ["job delivered: send-reminder", "job delivered: cleanup", "demo complete: 4 jobs delivered"]),
    ("scheduled-invocation", ["job delivered: daily-sales-report", "demo complete: 2 reports emailed"]),
])
def test_quickstart_runs_with_one_command(quickstart: str, expected: list[str], tmp_path: pathlib.Path,
                                          procs: list[Proc]) -> None:
    env = {"APP_PORT": str(free_port()), "DAPR_HTTP_PORT": str(free_port()), "DAPR_GRPC_PORT": str(free_port()),
           "METRICS_PORT": "0", "DAPRJOBS_ETCD_DATA_DIR": str(tmp_path / "etcd"),
           "REPORT_OUTBOX": str(tmp_path / "outbox")}
    proc = Proc([str(REPO / "quickstarts" / quickstart / "run.sh"), "--demo"], env=env)
    procs.append(proc)
    code, output = proc.finish(timeout=180)
    assert code == 0, output
    for text in expected:
        assert text in output, output
    assert "== daprjobs run: stopped" in output
    if quickstart == "scheduled-invocation":
        assert len(list((tmp_path / "outbox").glob("report-*.eml"))) == 2


@pytest.mark.slow
def test_run_stops_everything_on_sigterm_and_keeps_data(tmp_path: pathlib.Path, procs: list[Proc]) -> None:
    http_port, grpc_port = free_port(), free_port()
    pid_file = tmp_path / "app.pid"
    app = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(3600)"
    args = [*DAPRJOBS, "run", "--app-id", "runner", "--dapr-http-port", str(http_port),
            "--dapr-grpc-port", str(grpc_port), "--metrics-port", "0", "--etcd-data-dir", str(tmp_path / "etcd"),
            "--", sys.executable, "-c", app]

    first = Proc(args)
    procs.append(first)
    etcd_port = int(first.wait_for_line(r"etcd listening on http://127\.0\.0\.1:(\d+)").group(1))
    first.wait_for_line("app started")
    assert http("POST", f"http://127.0.0.1:{http_port}/v1.0/jobs/kept", {"schedule": "@every 1h",
                                                                         "data": {"v": 1}})[0] == 204
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    app_pid = int(pid_file.read_text())
    first.popen.send_signal(signal.SIGTERM)
    code, output = first.finish(timeout=60)
    assert code == 0, output
    assert "== daprjobs run: stopped" in output
    with pytest.raises(ProcessLookupError):
        os.kill(app_pid, 0)  # the app is gone
    assert not port_open(etcd_port)  # etcd is gone
    assert not port_open(http_port)

    pid_file.unlink()
    second = Proc(args)
    procs.append(second)
    second.wait_for_line("app started")
    status, body = http("GET", f"http://127.0.0.1:{http_port}/v1.0/jobs/kept")
    assert status == 200, body
    assert json.loads(body)["data"]["value"] == {"v": 1}  # the job survived the restart
    second.popen.send_signal(signal.SIGINT)  # Ctrl-C
    code, output = second.finish(timeout=60)
    assert code == 0, output


def test_run_exits_with_the_apps_exit_code(tmp_path: pathlib.Path, procs: list[Proc]) -> None:
    proc = Proc([*DAPRJOBS, "run", "--app-id", "quitter", "--dapr-http-port", str(free_port()),
                 "--dapr-grpc-port", str(free_port()), "--metrics-port", "0",
                 "--etcd-data-dir", str(tmp_path / "etcd"), "--",
                 sys.executable, "-c", "import os, sys; print('ports', os.environ['DAPR_HTTP_PORT'],"
                 " os.environ['DAPR_GRPC_PORT'], os.environ.get('APP_PORT')); sys.exit(3)"])
    procs.append(proc)
    code, output = proc.finish(timeout=60)
    assert code == 3, output
    assert re.search(r"ports \d+ \d+ None", output), output


def test_run_with_external_etcd(module_etcd: EtcdProcess, tmp_path: pathlib.Path, procs: list[Proc]) -> None:
    http_port = free_port()
    proc = Proc([*DAPRJOBS, "run", "--app-id", "external", "--dapr-http-port", str(http_port),
                 "--dapr-grpc-port", str(free_port()), "--metrics-port", "0",
                 "--etcd-client-endpoints", module_etcd.endpoint, "--etcd-data-dir", str(tmp_path / "unused")])
    procs.append(proc)
    proc.wait_for_line(f"using etcd at {re.escape(module_etcd.endpoint)}")
    proc.wait_for_line("no app command given")
    assert http("POST", f"http://127.0.0.1:{http_port}/v1.0/jobs/ext", {"dueTime": "1h"})[0] == 204
    proc.popen.send_signal(signal.SIGTERM)
    code, output = proc.finish(timeout=60)
    assert code == 0, output
    assert not (tmp_path / "unused").exists()
    assert module_etcd.running


def test_invalid_resources_fail_naming_file_and_field(tmp_path: pathlib.Path, procs: list[Proc]) -> None:
    (tmp_path / "components.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: store\n"
        "spec:\n  type: state.redis\n  version: v1\n")
    proc = Proc([*DAPRJOBS, "run", "--app-id", "bad", "--resources-path", str(tmp_path),
                 "--etcd-data-dir", str(tmp_path / "etcd")])
    procs.append(proc)
    code, output = proc.finish(timeout=60)
    assert code == 2, output
    assert str(tmp_path / "components.yaml") in output and "spec.type" in output and "state.redis" in output
    assert not (tmp_path / "etcd").exists()  # refused before starting anything


async def test_sidecar_command(module_etcd: EtcdProcess, procs: list[Proc]) -> None:
    replica = SchedulerReplica(scheduler_config(module_etcd, "t" + uuid.uuid4().hex[:10], free_port()))
    await replica.start()
    try:
        http_port = free_port()
        proc = Proc([*DAPRJOBS, "sidecar", "--app-id", "standalone", "--dapr-http-port", str(http_port),
                     "--dapr-grpc-port", str(free_port()), "--metrics-port", "0", "--max-body-size", "1Ki",
                     "--scheduler-host-address", replica.address, "--namespace", "prod"])
        procs.append(proc)
        await asyncio.to_thread(proc.wait_for_line, "daprjobs sidecar: app standalone HTTP API")
        url = f"http://127.0.0.1:{http_port}/v1.0/jobs/solo"
        assert (await asyncio.to_thread(http, "POST", url, {"dueTime": "1h"}))[0] == 204
        status, body = await asyncio.to_thread(http, "GET", url)
        assert status == 200 and json.loads(body)["dueTime"] == "1h"
        status, body = await asyncio.to_thread(http, "POST", url, {"dueTime": "1h", "data": "x" * 2048})
        assert status == 400 and json.loads(body)["errorCode"] == "ERR_BODY_READ"
        status, body = await asyncio.to_thread(http, "GET", f"http://127.0.0.1:{http_port}/v1.0/jobs/nope")
        assert json.loads(body)["details"][0]["metadata"] == {"appID": "standalone", "namespace": "prod"}
        proc.popen.send_signal(signal.SIGTERM)
        code, output = await asyncio.to_thread(proc.finish, 60)
        assert code == 0, output
    finally:
        await replica.stop()

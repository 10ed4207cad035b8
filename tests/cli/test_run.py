"""`daprjobs run` as users run it, and each quickstart's one command (which is `daprjobs run`)."""

from __future__ import annotations

import json
import os
import pathlib
import re
import signal
import sys
import time

import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port

from .conftest import CommandRunner
from .http_json import http

REPO = pathlib.Path(__file__).resolve().parents[2]
DAPRJOBS = [sys.executable, "-m", "daprjobs"]


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
                                          run_command: CommandRunner) -> None:
    env = {"APP_PORT": str(free_port()), "DAPR_HTTP_PORT": str(free_port()), "DAPR_GRPC_PORT": str(free_port()),
           "METRICS_PORT": "0", "DAPRJOBS_ETCD_DATA_DIR": str(tmp_path / "etcd"),
           "REPORT_OUTBOX": str(tmp_path / "outbox"), "EMAIL_APP_PORT": str(free_port()),
           "EMAIL_DAPR_HTTP_PORT": str(free_port()), "EMAIL_DAPR_GRPC_PORT": str(free_port())}
    proc = run_command([str(REPO / "quickstarts" / quickstart / "run.sh"), "--demo"], env=env)
    code, output = proc.finish(timeout=180)
    assert code == 0, output
    for text in expected:
        assert text in output, output
    assert "== daprjobs run: stopped" in output
    if quickstart == "scheduled-invocation":
        assert len(list((tmp_path / "outbox").glob("report-*.eml"))) == 2


@pytest.mark.slow
def test_run_stops_everything_on_sigterm_and_keeps_data(tmp_path: pathlib.Path, run_command: CommandRunner) -> None:
    http_port, grpc_port = free_port(), free_port()
    pid_file = tmp_path / "app.pid"
    app = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(3600)"
    args = [*DAPRJOBS, "run", "--app-id", "runner", "--dapr-http-port", str(http_port),
            "--dapr-grpc-port", str(grpc_port), "--metrics-port", "0", "--etcd-data-dir", str(tmp_path / "etcd"),
            "--", sys.executable, "-c", app]

    first = run_command(args)
    etcd_port = int(first.wait_for_line(r"etcd listening on http://127\.0\.0\.1:(\d+)").group(1))
    first.wait_for_line("app started")
    assert http("POST", f"http://127.0.0.1:{http_port}/v1.0/jobs/kept", {"schedule": "@every 1h",
                                                                         "data": {"v": 1}})[0] == 204
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    app_pid = int(pid_file.read_text())
    first.send_signal(signal.SIGTERM)
    code, output = first.finish(timeout=60)
    assert code == 0, output
    assert "== daprjobs run: stopped" in output
    with pytest.raises(ProcessLookupError):
        os.kill(app_pid, 0)  # the app is gone
    assert not port_open(etcd_port)  # etcd is gone
    assert not port_open(http_port)

    pid_file.unlink()
    second = run_command(args)
    second.wait_for_line("app started")
    status, body = http("GET", f"http://127.0.0.1:{http_port}/v1.0/jobs/kept")
    assert status == 200, body
    assert json.loads(body)["data"]["value"] == {"v": 1}  # the job survived the restart
    second.send_signal(signal.SIGINT)  # Ctrl-C
    code, output = second.finish(timeout=60)
    assert code == 0, output


def test_run_exits_with_the_apps_exit_code(tmp_path: pathlib.Path, run_command: CommandRunner) -> None:
    proc = run_command([*DAPRJOBS, "run", "--app-id", "quitter", "--dapr-http-port", str(free_port()),
                 "--dapr-grpc-port", str(free_port()), "--metrics-port", "0",
                 "--etcd-data-dir", str(tmp_path / "etcd"), "--",
                 sys.executable, "-c", "import os, sys; print('ports', os.environ['DAPR_HTTP_PORT'],"
                 " os.environ['DAPR_GRPC_PORT'], os.environ.get('APP_PORT')); sys.exit(3)"])
    code, output = proc.finish(timeout=60)
    assert code == 3, output
    assert re.search(r"ports \d+ \d+ None", output), output


def test_run_with_external_etcd(module_etcd: EtcdProcess, tmp_path: pathlib.Path,
                                run_command: CommandRunner) -> None:
    http_port = free_port()
    proc = run_command([*DAPRJOBS, "run", "--app-id", "external", "--dapr-http-port", str(http_port),
                 "--dapr-grpc-port", str(free_port()), "--metrics-port", "0",
                 "--etcd-client-endpoints", module_etcd.endpoint, "--etcd-data-dir", str(tmp_path / "unused")])
    proc.wait_for_line(f"using etcd at {re.escape(module_etcd.endpoint)}")
    proc.wait_for_line("no app command given")
    assert http("POST", f"http://127.0.0.1:{http_port}/v1.0/jobs/ext", {"dueTime": "1h"})[0] == 204
    proc.send_signal(signal.SIGTERM)
    code, output = proc.finish(timeout=60)
    assert code == 0, output
    assert not (tmp_path / "unused").exists()
    assert module_etcd.running


def test_invalid_resources_fail_naming_file_and_field(tmp_path: pathlib.Path, run_command: CommandRunner) -> None:
    (tmp_path / "components.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: store\n"
        "spec:\n  type: bindings.kafka\n  version: v1\n")
    proc = run_command([*DAPRJOBS, "run", "--app-id", "bad", "--resources-path", str(tmp_path),
                 "--etcd-data-dir", str(tmp_path / "etcd")])
    code, output = proc.finish(timeout=60)
    assert code == 2, output
    assert str(tmp_path / "components.yaml") in output and "spec.type" in output and "bindings.kafka" in output
    assert not (tmp_path / "etcd").exists()  # refused before starting anything

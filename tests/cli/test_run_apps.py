"""``daprjobs run`` as ``dapr init`` + ``dapr run`` users use it: zero-config actors, several runs on one etcd,
``run -f`` with three apps invoking each other, and bad run files."""

from __future__ import annotations

import json
import pathlib
import re
import signal
import sys
import urllib.error

import pytest
from daprjobs.etcd.embedded import EtcdProcess, free_port

from tests.support.waiting import wait_until

from .conftest import CommandRunner
from .http_json import http

REPO = pathlib.Path(__file__).resolve().parents[2]
DAPRJOBS = [sys.executable, "-m", "daprjobs"]
ECHO_APP = str(REPO / "tests" / "cli" / "echo_app.py")


def invoke(http_port: int, app_id: str, method: str) -> tuple[int, str]:
    try:
        status, body = http("GET", f"http://127.0.0.1:{http_port}/v1.0/invoke/{app_id}/method/{method}")
    except urllib.error.URLError as exc:
        return 0, str(exc)
    return status, body.decode(errors="replace")


@pytest.mark.slow
def test_zero_config_run_hosts_actors(tmp_path: pathlib.Path, run_command: CommandRunner,
                                      module_etcd: EtcdProcess) -> None:
    http_port, app_port = free_port(), free_port()
    proc = run_command([*DAPRJOBS, "run", "--app-id", "zeroconf", "--app-port", str(app_port),
                        "--dapr-http-port", str(http_port), "--dapr-grpc-port", str(free_port()),
                        "--metrics-port", "0", "--etcd-client-endpoints", module_etcd.endpoint, "--",
                        sys.executable, str(REPO / "tests" / "actors" / "apps" / "py_http_actor_app.py")],
                       env={"ACTOR_EVENTS_FILE": str(tmp_path / "events.jsonl")})
    proc.wait_for_line(r"components of 'zeroconf': statestore \(state\.etcd\)")
    meta_url = f"http://127.0.0.1:{http_port}/v1.0/metadata"

    def hosted() -> bool:
        status, body = http("GET", meta_url)
        return status == 200 and any(a.get("type") == "DemoActor" for a in json.loads(body).get("actors", []))

    wait_until(hosted, 60, "DemoActor hosted", watch=[proc])
    components = json.loads(http("GET", meta_url)[1])["components"]
    store = next(c for c in components if c["name"] == "statestore")
    assert (store["type"], store["version"]) == ("state.etcd", "v2") and "ACTOR" in store["capabilities"]
    actor = f"http://127.0.0.1:{http_port}/v1.0/actors/DemoActor/zc-1/method"
    assert http("POST", f"{actor}/SetValue", {"n": 7})[0] == 200
    status, body = http("POST", f"{actor}/GetValue")
    assert status == 200 and json.loads(body) == {"n": 7}
    proc.send_signal(signal.SIGTERM)
    code, output = proc.finish(timeout=60)
    assert code == 0, output


@pytest.mark.slow
def test_two_runs_share_one_etcd(run_command: CommandRunner, module_etcd: EtcdProcess) -> None:
    ports = {name: (free_port(), free_port()) for name in ("left", "right")}
    procs = {}
    for name, (http_port, app_port) in ports.items():
        procs[name] = run_command([
            *DAPRJOBS, "run", "--app-id", f"shared-{name}", "--app-port", str(app_port),
            "--dapr-http-port", str(http_port), "--dapr-grpc-port", str(free_port()), "--metrics-port", "0",
            "--etcd-client-endpoints", module_etcd.endpoint, "--", sys.executable, ECHO_APP])
    replicas = [p.wait_for_line(r"scheduler listening on \S+ \(replica (\S+)\)").group(1) for p in procs.values()]
    assert replicas[0] != replicas[1]
    for name, proc in procs.items():
        proc.wait_for_line(f"shared-{name} listening")
    left_http = ports["left"][0]
    wait_until(lambda: invoke(left_http, "shared-left", "ask/shared-right")[0] == 200, 60, "invocation across runs")
    answer = invoke(left_http, "shared-left", "ask/shared-right")
    assert answer == (200, "hello from shared-right (caller shared-left)"), procs["left"].log_tail()
    # Both runs' schedulers serve jobs: each app's job is stored and listed.
    for name, (http_port, _) in ports.items():
        assert http("POST", f"http://127.0.0.1:{http_port}/v1.0/jobs/j-{name}", {"dueTime": "1h"})[0] == 204
        assert http("GET", f"http://127.0.0.1:{http_port}/v1.0/jobs/j-{name}")[0] == 200
    for proc in procs.values():
        proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        code, output = proc.finish(timeout=60)
        assert code == 0, output


@pytest.mark.slow
def test_run_file_with_three_apps(tmp_path: pathlib.Path, run_command: CommandRunner) -> None:
    names = ["alpha", "beta", "gamma"]
    http_ports = {name: free_port() for name in names}
    apps = "".join(
        f"  - appID: {name}\n    appDirPath: {REPO / 'tests' / 'cli'}\n    appPort: {free_port()}\n"
        f"    daprHTTPPort: {http_ports[name]}\n    daprGRPCPort: {free_port()}\n"
        f"    command: [\"{sys.executable}\", \"echo_app.py\"]\n    env:\n      WHO: {name}\n"
        for name in names)
    run_file = tmp_path / "dapr.yaml"
    run_file.write_text(f"version: 1\ncommon:\n  env:\n    DEBUG: true\napps:\n{apps}")
    proc = run_command([*DAPRJOBS, "run", "-f", str(tmp_path), "--etcd-data-dir", str(tmp_path / "etcd")])
    for name in names:
        proc.wait_for_line(f"== {name} == {name} listening")
    assert len(re.findall(r"etcd listening on", proc.output())) == 1
    assert len(re.findall(r"scheduler listening on", proc.output())) == 1
    for caller, target in (("alpha", "beta"), ("beta", "gamma"), ("gamma", "alpha")):
        wait_until(lambda c=caller, t=target: invoke(http_ports[c], c, f"ask/{t}")[0] == 200, 60,  # type: ignore[misc]
                   f"{caller} invokes {target}")
        answer = invoke(http_ports[caller], caller, f"ask/{target}")
        assert answer == (200, f"hello from {target} (caller {caller})"), proc.log_tail()
    proc.send_signal(signal.SIGINT)
    code, output = proc.finish(timeout=60)
    assert code == 0, output
    assert "== daprjobs run: stopped" in output


@pytest.mark.parametrize(("content", "message"), [
    ("version: 2\napps: []\n", "version must be 1"),
    ("version: 1\napps:\n  - appID: x\n", "apps[0].appDirPath is required"),
    ("version: 1\napps:\n  - appID: a.b\n    appDirPath: .\n", "appID must be a string without dots"),
    ("version: 1\napps:\n  - appID: x\n    appDirPath: .\n    appPort: many\n", "apps[0].appPort must be a port"),
    ("version: 1\napps:\n  - appID: x\n    appDirPath: .\n  - appID: x\n    appDirPath: .\n", "used twice"),
])
def test_bad_run_file_is_refused_naming_the_field(tmp_path: pathlib.Path, run_command: CommandRunner,
                                                  content: str, message: str) -> None:
    run_file = tmp_path / "apps.yaml"
    run_file.write_text(content)
    code, output = run_command([*DAPRJOBS, "run", "-f", str(run_file)]).finish(timeout=60)
    assert code == 2, output
    assert str(run_file) in output and message in output, output


def test_run_without_app_id_or_run_file_is_refused(run_command: CommandRunner) -> None:
    code, output = run_command([*DAPRJOBS, "run"]).finish(timeout=60)
    assert code == 2 and "--app-id is required" in output, output


def test_components_expecting_dapr_init_redis_get_it(tmp_path: pathlib.Path, run_command: CommandRunner) -> None:
    """A Dapr quickstart's `redisHost: localhost:<port>` with nothing listening there: run starts its redis on that
    port (as `dapr init` would have), so the quickstart runs unchanged."""
    port = free_port()
    resources = tmp_path / "components"
    resources.mkdir()
    (resources / "pubsub.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: orderpubsub\nspec:\n  type: pubsub.redis\n"
        f"  version: v1\n  metadata:\n  - name: redisHost\n    value: localhost:{port}\n")
    http_port = free_port()
    proc = run_command([*DAPRJOBS, "run", "--app-id", "publisher", "--resources-path", str(resources),
                        "--dapr-http-port", str(http_port), "--etcd-data-dir", str(tmp_path / "etcd")])
    proc.wait_for_line(f"redis listening on 127.0.0.1:{port}")
    proc.wait_for_line("sidecar for app 'publisher'")
    status, body = http("POST", f"http://127.0.0.1:{http_port}/v1.0/publish/orderpubsub/orders", {"orderId": 1})
    assert status == 204, body
    proc.send_signal(signal.SIGINT)
    code, output = proc.finish(timeout=60)
    assert code == 0, output

"""Security flags become configuration (with clear errors), and every listener stays on loopback by default."""

from __future__ import annotations

import argparse
import pathlib
import socket

import pytest
from daprjobs.cli import COMMANDS
from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.scheduler import options as scheduler_options
from daprjobs.scheduler.server import SchedulerConfig, SchedulerReplica
from daprjobs.security.tls import TlsConfigError
from daprjobs.security.token import TOKEN_ENV
from daprjobs.sidecar import options as sidecar_options
from daprjobs.sidecar.config import SidecarConfig

from tests.security.conftest import Pki
from tests.support.inprocess import start_stack, stop_stacks

LISTEN_DEFAULTS = {"scheduler": ["listen_address"], "sidecar": ["dapr_listen_addresses", "app_host"],
                   "run": ["dapr_listen_addresses", "app_host"]}


def parse(command: str, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    COMMANDS[command].add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.parametrize("command", sorted(LISTEN_DEFAULTS))
def test_listen_address_defaults_are_loopback(command: str) -> None:
    args = parse(command, *(["--app-id", "a"] if command != "scheduler" else []))
    assert {name: getattr(args, name) for name in LISTEN_DEFAULTS[command]} == \
        dict.fromkeys(LISTEN_DEFAULTS[command], "127.0.0.1")
    assert SchedulerConfig().listen_host == "127.0.0.1"
    assert SidecarConfig(app_id="a").listen_host == "127.0.0.1"
    assert EtcdProcess(data_dir=pathlib.Path("unused")).host == "127.0.0.1"


def outside_address() -> str | None:
    """This host's address on its default route (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address: str = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


async def test_every_listener_is_on_loopback_only(module_etcd: EtcdProcess, tmp_path: pathlib.Path) -> None:
    """The scheduler's gRPC, healthz and metrics ports, the sidecar's HTTP, gRPC and metrics ports and embedded
    etcd answer on 127.0.0.1 and not on the host's outside address."""
    outside = outside_address()
    if outside is None:
        pytest.skip("this host has no non-loopback address to probe")
    stack = await start_stack(module_etcd, "loopback-app", metrics_port=free_port())
    replica = SchedulerReplica(SchedulerConfig(port=0, healthz_port=free_port(), metrics_port=free_port(),
                                               etcd_endpoints=[module_etcd.endpoint], key_prefix="loopback"))
    try:
        await stack.sidecar.start()
        await replica.start()
        assert replica.config.healthz_port and replica.config.metrics_port and stack.sidecar.metrics_port
        ports = [int(replica.address.rsplit(":", 1)[1]), replica.config.healthz_port, replica.config.metrics_port,
                 stack.sidecar.http_port, stack.sidecar.grpc_port, stack.sidecar.metrics_port,
                 module_etcd.client_port]
        assert [p for p in ports if not reachable("127.0.0.1", p)] == []
        assert [p for p in ports if reachable(outside, p)] == []
    finally:
        await replica.stop()
        await stop_stacks([stack])


def test_scheduler_security_flags(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "tok-9f3a")
    monkeypatch.setenv(scheduler_options.ETCD_PASSWORD_ENV, "etcd-pw")
    args = parse("scheduler", "--tls-cert-file", str(pki.scheduler.cert), "--tls-key-file", str(pki.scheduler.key),
                 "--trust-anchors-file", str(pki.ca), "--etcd-client-endpoints", "https://etcd-0:2379",
                 "--etcd-client-username", "root")
    config = scheduler_options.config_from_args(args)
    assert config.api_token == "tok-9f3a" and config.etcd_username == "root" and config.etcd_password == "etcd-pw"
    assert config.tls is not None and config.tls.client_ca_file == pki.ca
    assert config.etcd_tls is not None and config.etcd_tls.ca_file is None  # https:// alone: the system's roots
    scheduler_options.check_files(config)
    assert "tok-9f3a" not in repr(config) and "etcd-pw" not in repr(config)


def test_sidecar_security_flags(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "tok-9f3a")
    args = parse("sidecar", "--app-id", "a", "--scheduler-trust-anchors-file", str(pki.ca),
                 "--scheduler-tls-cert-file", str(pki.sidecar.cert), "--scheduler-tls-key-file", str(pki.sidecar.key),
                 "--dapr-grpc-tls-cert-file", str(pki.sidecar.cert), "--dapr-grpc-tls-key-file", str(pki.sidecar.key))
    monkeypatch.setenv("DAPR_API_TOKEN", "api-7c1d")
    config = sidecar_options.config_from_args(args)
    assert config.api_token == "api-7c1d" and "api-7c1d" not in repr(config)
    assert config.scheduler_link.token == "tok-9f3a" and config.scheduler_link.tls is not None
    assert config.scheduler_link.tls.cert_file == pki.sidecar.cert
    assert config.grpc_tls is not None and config.grpc_tls.client_ca_file is None
    assert "tok-9f3a" not in repr(config)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tls-cert-file", "x.crt"], "--tls-cert-file and --tls-key-file must be given together"),
        (["--trust-anchors-file", "ca.crt"], "--trust-anchors-file needs --tls-cert-file"),
        (["--tls-cert-file", "/nonexistent/x.crt", "--tls-key-file", "/nonexistent/x.key"],
         "--tls-cert-file: cannot read /nonexistent/x.crt"),
        (["--etcd-cert", "c.crt"], "--etcd-cert and --etcd-key must be given together"),
    ],
)
def test_scheduler_refuses_incomplete_tls_flags(argv: list[str], message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert scheduler_options.main(parse("scheduler", *argv)) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scheduler-tls-cert-file", "c", "--scheduler-tls-key-file", "k"],
         "TLS to the scheduler needs --scheduler-trust-anchors-file"),
        (["--scheduler-trust-anchors-file", "ca", "--scheduler-tls-cert-file", "c"], "must be given together"),
        (["--scheduler-trust-anchors-file", "/nonexistent/ca.crt"], "--scheduler-trust-anchors-file: cannot read"),
        (["--dapr-grpc-tls-key-file", "k"], "--dapr-grpc-tls-cert-file and --dapr-grpc-tls-key-file"),
    ],
)
def test_sidecar_refuses_incomplete_tls_flags(argv: list[str], message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert sidecar_options.main(parse("sidecar", "--app-id", "a", *argv)) == 2
    assert message in capsys.readouterr().err


def test_a_file_that_is_not_pem_is_named(tmp_path: pathlib.Path) -> None:
    bogus = tmp_path / "ca.crt"
    bogus.write_text("not a certificate")
    with pytest.raises(TlsConfigError, match=r"--scheduler-trust-anchors-file: .* is not a PEM file"):
        sidecar_options.config_from_args(parse("sidecar", "--app-id", "a", "--scheduler-trust-anchors-file",
                                               str(bogus)))

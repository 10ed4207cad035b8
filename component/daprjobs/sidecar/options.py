"""``daprjobs sidecar``: flags (daprd's names and defaults), environment, and the process main loop."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pathlib
import signal
import sys

from daprjobs.security.link import SchedulerLinkSecurity
from daprjobs.security.tls import ServerTls, client_tls_from_flags, server_tls_from_flags
from daprjobs.security.token import TOKEN_ENV
from daprjobs.sidecar.config import ResourceError, SidecarConfig, load_resources, parse_quantity

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--app-id", required=True, help="the app's id (jobs are scoped to it)")
    parser.add_argument("--app-port", type=int, default=None, help="the port the app listens on (none: no app)")
    parser.add_argument("--app-protocol", choices=["http", "grpc"], default="http",
                        help="how the sidecar calls the app (default http)")
    parser.add_argument("--app-host", default="127.0.0.1", help="where the app listens (default 127.0.0.1)")
    parser.add_argument("--dapr-http-port", type=int, default=3500, help="HTTP API port (default 3500)")
    parser.add_argument("--dapr-grpc-port", type=int, default=50001, help="gRPC API port (default 50001)")
    parser.add_argument("--dapr-listen-addresses", default="127.0.0.1",
                        help="address the API servers listen on (default 127.0.0.1)")
    parser.add_argument("--scheduler-host-address", default="",
                        help="scheduler address(es), HOST:PORT[,HOST:PORT]; empty disables jobs")
    parser.add_argument("--scheduler-job-streams", type=int, default=3,
                        help="WatchJobs streams per scheduler host (default 3)")
    parser.add_argument("--resources-path", default=None, help="directory (or file) of Dapr resource YAML")
    parser.add_argument("--namespace", default=None,
                        help="namespace of the app's jobs (default $NAMESPACE or 'default')")
    parser.add_argument("--max-body-size", default="4Mi", help="largest request body, e.g. 4Mi (default 4Mi)")
    parser.add_argument("--metrics-port", type=int, default=9090, help="Prometheus /metrics port; 0 disables")


def add_command_arguments(parser: argparse.ArgumentParser) -> None:
    """``daprjobs sidecar``: the shared sidecar flags plus where etcd is (``run`` has its own etcd flags)."""
    add_arguments(parser)
    parser.add_argument("--etcd-client-endpoints", default="",
                        help="etcd (URL[,URL]) for name resolution, actor placement and state.etcd without endpoints "
                             "(default: the state.etcd component's endpoints)")
    add_tls_arguments(parser)


def add_tls_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scheduler-trust-anchors-file", default=None,
                        help="CA bundle verifying the scheduler: dial it over TLS (default plaintext)")
    parser.add_argument("--scheduler-tls-cert-file", default=None,
                        help="client certificate presented to the scheduler (mutual TLS)")
    parser.add_argument("--scheduler-tls-key-file", default=None, help="private key of --scheduler-tls-cert-file")
    parser.add_argument("--scheduler-tls-server-name", default=None,
                        help="name the scheduler's certificate must carry (default: the dialled host)")
    parser.add_argument("--dapr-grpc-tls-cert-file", default=None,
                        help="serve the gRPC API over TLS with this certificate (SDKs: DAPR_GRPC_ENDPOINT=https://...)")
    parser.add_argument("--dapr-grpc-tls-key-file", default=None, help="private key of --dapr-grpc-tls-cert-file")


def security_from_args(args: argparse.Namespace) -> tuple[SchedulerLinkSecurity, ServerTls | None]:
    """The scheduler link (TLS flags, DAPRJOBS_SCHEDULER_API_TOKEN) and the gRPC API's TLS; files are read now."""
    client_tls = client_tls_from_flags(args.scheduler_trust_anchors_file, args.scheduler_tls_cert_file,
                                       args.scheduler_tls_key_file, args.scheduler_tls_server_name)
    link = SchedulerLinkSecurity(client_tls, os.environ.get(TOKEN_ENV) or None)
    grpc_tls = server_tls_from_flags(args.dapr_grpc_tls_cert_file, args.dapr_grpc_tls_key_file, None,
                                     flag_prefix="--dapr-grpc-tls")
    for credentials in (client_tls, grpc_tls):
        if credentials is not None:
            credentials.credentials()
    return link, grpc_tls


def config_from_args(args: argparse.Namespace, etcd_endpoints: list[str] | None = None) -> SidecarConfig:
    """Flags, then environment (DAPR_API_TOKEN, APP_API_TOKEN, NAMESPACE), then resource files."""
    namespace = args.namespace or os.environ.get("NAMESPACE") or "default"
    try:
        max_body = parse_quantity(args.max_body_size)
    except ValueError as exc:
        raise ValueError(f"--max-body-size: {exc}") from exc
    resources_path = pathlib.Path(args.resources_path) if args.resources_path else None
    resources = load_resources(resources_path, namespace)
    addresses = [a.strip() for a in (args.scheduler_host_address or "").split(",") if a.strip()]
    scheduler_link, grpc_tls = security_from_args(args)
    return SidecarConfig(
        app_id=args.app_id,
        app_port=args.app_port,
        app_protocol=args.app_protocol,
        app_host=args.app_host,
        dapr_http_port=args.dapr_http_port,
        dapr_grpc_port=args.dapr_grpc_port,
        listen_host=args.dapr_listen_addresses,
        scheduler_host_addresses=addresses,
        scheduler_job_streams=args.scheduler_job_streams,
        resources_path=resources_path,
        resources=resources,
        namespace=namespace,
        max_body_size=max_body,
        metrics_port=args.metrics_port or None,
        api_token=os.environ.get("DAPR_API_TOKEN") or None,
        app_api_token=os.environ.get("APP_API_TOKEN") or None,
        etcd_endpoints=list(etcd_endpoints or _endpoints(getattr(args, "etcd_client_endpoints", ""))),
        scheduler_link=scheduler_link,
        grpc_tls=grpc_tls,
    )


def _endpoints(text: str) -> list[str]:
    return [e.strip() for e in text.split(",") if e.strip()]


def install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def _serve(config: SidecarConfig) -> int:
    from daprjobs.sidecar.server import Sidecar

    sidecar = Sidecar(config)
    stop = asyncio.Event()
    install_stop_signals(stop)
    try:
        await sidecar.start()
        print(f"daprjobs sidecar: app {config.app_id} HTTP API on {config.listen_host}:{sidecar.http_port}, "
              f"gRPC API on {config.listen_host}:{sidecar.grpc_port}", flush=True)
        await stop.wait()
    finally:
        await sidecar.stop()
    return 0


def main(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except (ResourceError, ValueError) as exc:
        print(f"daprjobs sidecar: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_serve(config))
    except OSError as exc:
        print(f"daprjobs sidecar: {exc}", file=sys.stderr)
        return 1

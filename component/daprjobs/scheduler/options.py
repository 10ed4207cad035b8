"""`daprjobs scheduler`: run one scheduler replica (flags follow Dapr's scheduler where they overlap)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pathlib
import signal
import sys

from daprjobs.core.go_duration import parse_go_duration
from daprjobs.etcd.embedded import EtcdProcess
from daprjobs.etcd.tls_client import EtcdClientTls
from daprjobs.scheduler.server import SchedulerConfig, SchedulerReplica
from daprjobs.security.tls import server_tls_from_flags
from daprjobs.security.token import TOKEN_ENV

ETCD_PASSWORD_ENV = "DAPRJOBS_ETCD_CLIENT_PASSWORD"

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", default="dapr-scheduler-server-0", help="replica id, unique per replica")
    parser.add_argument("--listen-address", default="127.0.0.1", help="address the gRPC API binds")
    parser.add_argument("--port", type=int, default=50006, help="gRPC port of the Scheduler API")
    parser.add_argument("--override-broadcast-host-port", default=None,
                        help="host:port advertised to sidecars through WatchHosts")
    parser.add_argument("--etcd-client-endpoints", default="http://127.0.0.1:2379",
                        help="comma-separated etcd client URLs (external etcd)")
    parser.add_argument("--etcd-client-username", default=None, help="etcd user (etcd's Authenticate)")
    parser.add_argument("--etcd-client-password", default=None,
                        help=f"etcd password (better: ${ETCD_PASSWORD_ENV}, kept out of process listings)")
    parser.add_argument("--etcd-cacert", default=None, help="CA bundle verifying etcd (TLS; etcdctl's --cacert)")
    parser.add_argument("--etcd-cert", default=None, help="client certificate for etcd (etcdctl's --cert)")
    parser.add_argument("--etcd-key", default=None, help="client key for etcd (etcdctl's --key)")
    parser.add_argument("--tls-cert-file", default=None, help="serve the gRPC API over TLS with this certificate")
    parser.add_argument("--tls-key-file", default=None, help="private key of --tls-cert-file")
    parser.add_argument("--trust-anchors-file", default=None,
                        help="CA bundle: callers must present a certificate it signed (mutual TLS)")
    parser.add_argument("--etcd-embed", action="store_true", help="start a child etcd instead of using an external one")
    parser.add_argument("--etcd-data-dir", default="./data", help="data directory of the embedded etcd")
    parser.add_argument("--etcd-client-port", type=int, default=2379, help="client port of the embedded etcd")
    parser.add_argument("--etcd-max-txn-ops", type=int, default=None,
                        help="operations per etcd transaction (etcd's limit; default 128, 10000 when embedded)")
    parser.add_argument("--etcd-key-prefix", default="dapr", help="key prefix in etcd (Dapr uses 'dapr')")
    parser.add_argument("--lease-ttl", type=int, default=10,
                        help="membership lease in seconds: a killed replica's jobs move within this time")
    parser.add_argument("--healthz-port", type=int, default=None, help="HTTP /healthz (ready once joined)")
    parser.add_argument("--metrics-port", type=int, default=None, help="HTTP /metrics (Prometheus)")
    parser.add_argument("--min-every-interval", default="1ms",
                        help="shortest @every interval accepted (Go duration; default 1ms; Dapr has none)")
    parser.add_argument("--max-inflight", type=int, default=10_000, help="triggers in flight at once per replica")


def config_from_args(args: argparse.Namespace, etcd_endpoint: str | None = None) -> SchedulerConfig:
    endpoints = [etcd_endpoint] if etcd_endpoint else [e for e in args.etcd_client_endpoints.split(",") if e]
    max_txn_ops = args.etcd_max_txn_ops or (10_000 if etcd_endpoint else 128)
    return SchedulerConfig(
        replica_id=args.id, listen_host=args.listen_address, port=args.port, etcd_endpoints=endpoints,
        etcd_username=args.etcd_client_username,
        etcd_password=args.etcd_client_password or os.environ.get(ETCD_PASSWORD_ENV) or None,
        etcd_tls=None if etcd_endpoint else etcd_tls_from_args(args, endpoints),
        tls=server_tls_from_flags(args.tls_cert_file, args.tls_key_file, args.trust_anchors_file),
        api_token=os.environ.get(TOKEN_ENV) or None,
        key_prefix=args.etcd_key_prefix, lease_ttl_s=args.lease_ttl, healthz_port=args.healthz_port,
        metrics_port=args.metrics_port, broadcast_address=args.override_broadcast_host_port,
        etcd_max_txn_ops=max_txn_ops, max_inflight=args.max_inflight,
        min_every_interval_ns=min_every_interval_ns(args.min_every_interval),
    )


def etcd_tls_from_args(args: argparse.Namespace, endpoints: list[str]) -> EtcdClientTls | None:
    """TLS to etcd when a CA or client certificate is given, or an endpoint is https:// (then system roots)."""
    files = (args.etcd_cacert, args.etcd_cert, args.etcd_key)
    if not any(files) and not any(e.startswith("https://") for e in endpoints):
        return None
    ca, cert, key = (pathlib.Path(f) if f else None for f in files)
    return EtcdClientTls(ca, cert, key)


def min_every_interval_ns(text: str) -> int:
    try:
        value = parse_go_duration(text)
    except ValueError as exc:
        raise ValueError(f"--min-every-interval: {exc}") from None
    if value <= 0:
        raise ValueError(f"--min-every-interval must be positive, got {text!r}")
    return value


def main(args: argparse.Namespace) -> int:
    try:
        check_files(config_from_args(args, etcd_endpoint="http://127.0.0.1:0" if args.etcd_embed else None))
    except ValueError as exc:
        print(f"daprjobs scheduler: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_serve(args))


def check_files(config: SchedulerConfig) -> None:
    """Read every certificate now, so a wrong path stops the process with the flag's name before anything starts."""
    if config.tls is not None:
        config.tls.credentials()
    if config.etcd_tls is not None:
        config.etcd_tls.credentials()


async def _serve(args: argparse.Namespace) -> int:
    etcd: EtcdProcess | None = None
    if args.etcd_embed:
        etcd = EtcdProcess(data_dir=pathlib.Path(args.etcd_data_dir), client_port=args.etcd_client_port,
                           name=args.id)
        await etcd.start_async()
    replica = SchedulerReplica(config_from_args(args, etcd.endpoint if etcd else None))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await replica.start()
        print(f"daprjobs scheduler {args.id} listening on {replica.address}", flush=True)
        await stop.wait()
    finally:
        await replica.stop()
        if etcd is not None:
            etcd.stop()
    return 0

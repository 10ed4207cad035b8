"""`daprjobs scheduler`: run one scheduler replica (flags follow Dapr's scheduler where they overlap)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import pathlib
import signal
import sys

from daprjobs.core.timefmt import parse_go_duration
from daprjobs.etcd.embedded import EtcdProcess
from daprjobs.scheduler.server import SchedulerConfig, SchedulerReplica

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", default="dapr-scheduler-server-0", help="replica id, unique per replica")
    parser.add_argument("--listen-address", default="127.0.0.1", help="address the gRPC API binds")
    parser.add_argument("--port", type=int, default=50006, help="gRPC port of the Scheduler API")
    parser.add_argument("--override-broadcast-host-port", default=None,
                        help="host:port advertised to sidecars through WatchHosts")
    parser.add_argument("--etcd-client-endpoints", default="http://127.0.0.1:2379",
                        help="comma-separated etcd client URLs (external etcd)")
    parser.add_argument("--etcd-client-username", default=None)
    parser.add_argument("--etcd-client-password", default=None)
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
        etcd_username=args.etcd_client_username, etcd_password=args.etcd_client_password,
        key_prefix=args.etcd_key_prefix, lease_ttl_s=args.lease_ttl, healthz_port=args.healthz_port,
        metrics_port=args.metrics_port, broadcast_address=args.override_broadcast_host_port,
        etcd_max_txn_ops=max_txn_ops, max_inflight=args.max_inflight,
        min_every_interval_ns=min_every_interval_ns(args.min_every_interval),
    )


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
        min_every_interval_ns(args.min_every_interval)
    except ValueError as exc:
        print(f"daprjobs scheduler: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_serve(args))


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

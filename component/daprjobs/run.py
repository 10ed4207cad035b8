"""``daprjobs run``: embedded etcd + one scheduler + the sidecar (+ the app after ``--``), like ``dapr run``.

The etcd child keeps its data under ``--etcd-data-dir`` (jobs survive a restart); ``--etcd-client-endpoints``
uses an existing etcd instead. The app is started with ``DAPR_HTTP_PORT``, ``DAPR_GRPC_PORT`` and ``APP_PORT``
set and is stopped with everything else; when the app exits by itself, ``run`` stops too and returns the
app's exit code. Ctrl-C / SIGTERM stop, in order: the app, the sidecar, the scheduler, etcd (data kept).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import pathlib
import signal
import sys

from daprjobs.sidecar import options as sidecar_options
from daprjobs.sidecar.config import ResourceError, SidecarConfig

log = logging.getLogger(__name__)

APP_STOP_GRACE_S = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sidecar_options.add_arguments(parser)
    parser.add_argument("--etcd-data-dir", default="./.daprjobs/etcd",
                        help="data directory of the embedded etcd (default ./.daprjobs/etcd)")
    parser.add_argument("--etcd-client-endpoints", default="",
                        help="use this etcd (URL[,URL]) instead of starting one")
    parser.add_argument("--scheduler-port", type=int, default=0,
                        help="port of the embedded scheduler (default: a free port)")
    parser.epilog = "Start your app with it: daprjobs run --app-id myapp --app-port 6002 -- python app.py"


def app_command(args: argparse.Namespace) -> list[str]:
    """The command after ``--`` (cli.py hands unparsed arguments over as ``args.extra``)."""
    command = list(getattr(args, "extra", None) or [])
    if command and command[0] == "--":
        command = command[1:]
    return command


def app_environment(config: SidecarConfig, http_port: int, grpc_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env["DAPR_HTTP_PORT"] = str(http_port)
    env["DAPR_GRPC_PORT"] = str(grpc_port)
    env["APP_ID"] = config.app_id
    if config.app_port:
        env["APP_PORT"] = str(config.app_port)
    # So the app's prints show up as they happen, not when its buffer fills.
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _say(message: str) -> None:
    print(f"== daprjobs run: {message}", flush=True)


async def _stop_app(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), APP_STOP_GRACE_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()


async def _run(args: argparse.Namespace, config: SidecarConfig, command: list[str]) -> int:
    from daprjobs.etcd.embedded import EtcdProcess, free_port
    from daprjobs.scheduler.server import SchedulerConfig, SchedulerReplica
    from daprjobs.sidecar.server import Sidecar

    stop = asyncio.Event()
    sidecar_options.install_stop_signals(stop)
    etcd: EtcdProcess | None = None
    replica: SchedulerReplica | None = None
    sidecar: Sidecar | None = None
    app: asyncio.subprocess.Process | None = None
    exit_code = 0
    try:
        endpoints = [e.strip() for e in args.etcd_client_endpoints.split(",") if e.strip()]
        if endpoints:
            _say(f"using etcd at {','.join(endpoints)}")
        else:
            data_dir = pathlib.Path(args.etcd_data_dir)
            etcd = EtcdProcess(data_dir=data_dir, log_path=data_dir.parent / "etcd.log")
            await etcd.start_async()
            endpoints = [etcd.endpoint]
            _say(f"etcd listening on {etcd.endpoint} (data in {data_dir}, log in {data_dir.parent / 'etcd.log'})")
        if stop.is_set():
            return 130
        replica = SchedulerReplica(SchedulerConfig(
            replica_id="dapr-scheduler-server-0",
            listen_host="127.0.0.1",
            port=args.scheduler_port or free_port(),
            etcd_endpoints=endpoints,
            healthz_port=None,
            metrics_port=None,
        ))
        await replica.start()
        _say(f"scheduler listening on {replica.address}")
        if config.scheduler_host_addresses:
            _say("--scheduler-host-address is ignored: run uses the scheduler it starts")
        config.scheduler_host_addresses = [replica.address]
        config.etcd_endpoints = endpoints
        sidecar = Sidecar(config)
        await sidecar.start()
        _say(f"sidecar for app '{config.app_id}': HTTP API on {config.listen_host}:{sidecar.http_port}, "
             f"gRPC API on {config.listen_host}:{sidecar.grpc_port}"
             + (f", metrics on :{sidecar.metrics_port}/metrics" if sidecar.metrics_port else ""))
        if config.app_port:
            _say(f"app expected on {config.app_host}:{config.app_port} ({config.app_protocol})")
        if stop.is_set():
            return 130
        if command:
            env = app_environment(config, sidecar.http_port, sidecar.grpc_port)
            app = await asyncio.create_subprocess_exec(*command, env=env, start_new_session=True)
            _say(f"app started: {' '.join(command)} (pid {app.pid})")
            waiter = asyncio.create_task(app.wait())
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if waiter.done():
                exit_code = app.returncode or 0
                _say(f"app exited with code {exit_code}")
            else:
                waiter.cancel()
        else:
            _say("no app command given (add one after --); press Ctrl-C to stop")
            await stop.wait()
    finally:
        _say("stopping")
        if app is not None:
            await _stop_app(app)
        if sidecar is not None:
            await sidecar.stop()
        if replica is not None:
            await replica.stop()
        if etcd is not None:
            await asyncio.to_thread(etcd.stop)
        _say("stopped")
    return exit_code


def main(args: argparse.Namespace) -> int:
    try:
        config = sidecar_options.config_from_args(args)
    except (ResourceError, ValueError) as exc:
        print(f"daprjobs run: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(args, config, app_command(args)))
    except (OSError, RuntimeError, TimeoutError) as exc:
        # etcd that will not start, a busy port: say what failed, not a traceback.
        print(f"daprjobs run: {exc}", file=sys.stderr)
        return 1

"""``daprjobs run``: etcd + one scheduler + a sidecar per app (+ the apps), like ``dapr run`` after ``dapr init``.

- ``daprjobs run --app-id ID [sidecar flags] [-- CMD…]``: one app. The etcd child keeps its data under
  ``--etcd-data-dir`` (jobs survive a restart); ``--etcd-client-endpoints`` uses an existing etcd instead.
- ``daprjobs run -f apps.yaml`` (or a directory holding ``dapr.yaml``): every app of a Dapr CLI multi-app run file,
  each with its own sidecar, sharing the etcd and scheduler; app output is prefixed with the app id.

Without a resources path an app gets ``dapr init``'s components (``controlplane.default_components``). The apps
get ``DAPR_HTTP_PORT``, ``DAPR_GRPC_PORT`` and ``APP_PORT``; when an app exits by itself ``run`` stops and returns
its exit code. Ctrl-C / SIGTERM stop, in order: the apps, the sidecars, the scheduler, etcd (data kept).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import pathlib
import sys

from daprjobs.run.apprun import AppRun
from daprjobs.run.controlplane import ControlPlane, dapr_init_redis_port, default_components, say
from daprjobs.run.runfile import RunFileApp, RunFileError, load_run_file
from daprjobs.sidecar import options as sidecar_options
from daprjobs.sidecar.config import ResourceError, SidecarConfig, load_resources


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sidecar_options.add_arguments(parser)
    # The sidecar's TLS/token flags: config_from_args reads them (without them `daprjobs run` failed at start).
    sidecar_options.add_tls_arguments(parser)
    for action in parser._actions:
        if action.dest == "app_id":
            action.required = False  # not with -f: the run file names the apps
    parser.add_argument("-f", "--run-file", default=None,
                        help="a Dapr multi-app run file (or a directory with dapr.yaml): run every app in it")
    parser.add_argument("--etcd-data-dir", default="./.daprjobs/etcd",
                        help="data directory of the embedded etcd (default ./.daprjobs/etcd)")
    parser.add_argument("--etcd-client-endpoints", default="",
                        help="use this etcd (URL[,URL]) instead of starting one")
    parser.add_argument("--etcd-client-port", type=int, default=0,
                        help="client port of the embedded etcd (default: a free port)")
    parser.add_argument("--etcd-peer-port", type=int, default=0,
                        help="peer port of the embedded etcd (default: a free port)")
    parser.add_argument("--scheduler-port", type=int, default=0,
                        help="port of the embedded scheduler (default: a free port)")
    parser.add_argument("--redis-port", type=int, default=0,
                        help="port of the embedded redis-server behind the default `pubsub` component "
                             "(default: a free port; started for apps without --resources-path, or on the "
                             "localhost port a redis component expects when nothing listens there, as dapr init's)")
    parser.epilog = ("Start your app with it: daprjobs run --app-id myapp --app-port 6002 -- python app.py; "
                     "several apps: daprjobs run -f dapr.yaml")


def app_command(args: argparse.Namespace) -> list[str]:
    """The command after ``--`` (cli.py hands unparsed arguments over as ``args.extra``)."""
    command = list(getattr(args, "extra", None) or [])
    if command and command[0] == "--":
        command = command[1:]
    return command


def with_control_plane(config: SidecarConfig, plane: ControlPlane) -> SidecarConfig:
    resources = (config.resources if config.resources_path is not None
                 else default_components(plane.etcd_endpoints, plane.redis_address))
    return dataclasses.replace(config, scheduler_host_addresses=list(plane.scheduler_addresses),
                               etcd_endpoints=list(plane.etcd_endpoints), resources=resources)


def run_file_config(app: RunFileApp, args: argparse.Namespace) -> SidecarConfig:
    base = sidecar_options.config_from_args(args) if args.app_id else None
    return SidecarConfig(
        app_id=app.app_id, app_port=app.app_port, app_protocol=app.app_protocol, app_host=app.app_host,
        dapr_http_port=app.dapr_http_port, dapr_grpc_port=app.dapr_grpc_port,
        metrics_port=app.metrics_port or None, resources_path=app.resources_path,
        resources=load_resources(app.resources_path) if app.resources_path else [],
        api_token=base.api_token if base else None, app_api_token=base.app_api_token if base else None,
    )


async def _supervise(runs: list[AppRun], stop: asyncio.Event) -> int:
    """Until Ctrl-C/SIGTERM or until an app exits (its exit code is returned)."""
    waiters = {asyncio.create_task(run.wait()): run for run in runs if run.process is not None}
    if not waiters:
        say("no app command given (add one after --); press Ctrl-C to stop")
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({*waiters, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    exit_code = 0
    for task in done:
        if task in waiters:
            exit_code = task.result() or 0
            say(f"app '{waiters[task].config.app_id}' exited with code {exit_code}")
    for task in waiters:
        task.cancel()
    return exit_code


async def _run(args: argparse.Namespace, configs: list[tuple[SidecarConfig, AppRun]]) -> int:
    stop = asyncio.Event()
    sidecar_options.install_stop_signals(stop)
    plane = ControlPlane(args, broker=any(config.resources_path is None for config, _ in configs),
                         redis_port=dapr_init_redis_port(r for config, _ in configs for r in config.resources))
    runs: list[AppRun] = []
    try:
        await plane.start()
        for config, run in configs:
            run.config = with_control_plane(config, plane)
            runs.append(run)
            await run.start_sidecar(plane.local_scheduler)
            if stop.is_set():
                return 130
        for run in runs:
            await run.start_app()
        return await _supervise(runs, stop)
    finally:
        say("stopping")
        for run in reversed(runs):
            await run.stop()
        await plane.stop()
        say("stopped")


def main(args: argparse.Namespace) -> int:
    try:
        if args.run_file:
            apps = load_run_file(pathlib.Path(args.run_file))
            configs = [(cfg := run_file_config(app, args), AppRun(cfg, app.command, app.app_dir, app.env, prefix=True))
                       for app in apps]
        elif not args.app_id:
            raise ValueError("--app-id is required (or -f with a run file)")
        else:
            config = sidecar_options.config_from_args(args)
            configs = [(config, AppRun(config, app_command(args)))]
    except (ResourceError, RunFileError, ValueError) as exc:
        print(f"daprjobs run: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(args, configs))
    except (OSError, RuntimeError, TimeoutError) as exc:
        # etcd that will not start, a busy port: say what failed, not a traceback.
        print(f"daprjobs run: {exc}", file=sys.stderr)
        return 1

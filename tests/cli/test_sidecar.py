"""`daprjobs sidecar` as users run it, against an in-process scheduler replica."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from daprjobs.etcd.embedded import EtcdProcess, free_port
from daprjobs.scheduler.server import SchedulerReplica

from tests.support.inprocess import scheduler_config, unique_prefix

from .conftest import CommandRunner
from .http_json import http

DAPRJOBS = [sys.executable, "-m", "daprjobs"]


async def test_sidecar_command(module_etcd: EtcdProcess, run_command: CommandRunner) -> None:
    replica = SchedulerReplica(scheduler_config(module_etcd.endpoint, unique_prefix(), free_port()))
    await replica.start()
    try:
        http_port = free_port()
        proc = run_command([*DAPRJOBS, "sidecar", "--app-id", "standalone", "--dapr-http-port", str(http_port),
                     "--dapr-grpc-port", str(free_port()), "--metrics-port", "0", "--max-body-size", "1Ki",
                     "--scheduler-host-address", replica.address, "--namespace", "prod"])
        await asyncio.to_thread(proc.wait_for_line, "daprjobs sidecar: app standalone HTTP API")
        url = f"http://127.0.0.1:{http_port}/v1.0/jobs/solo"
        assert (await asyncio.to_thread(http, "POST", url, {"dueTime": "1h"}))[0] == 204
        status, body = await asyncio.to_thread(http, "GET", url)
        assert status == 200 and json.loads(body)["dueTime"] == "1h"
        status, body = await asyncio.to_thread(http, "POST", url, {"dueTime": "1h", "data": "x" * 2048})
        assert status == 400 and json.loads(body)["errorCode"] == "ERR_BODY_READ"
        status, body = await asyncio.to_thread(http, "GET", f"http://127.0.0.1:{http_port}/v1.0/jobs/nope")
        assert json.loads(body)["details"][0]["metadata"] == {"appID": "standalone", "namespace": "prod"}
        proc.send_signal(signal.SIGTERM)
        code, output = await asyncio.to_thread(proc.finish, 60)
        assert code == 0, output
    finally:
        await replica.stop()

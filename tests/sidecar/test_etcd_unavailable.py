"""The Jobs API while etcd is down: daprd's error for a Scheduler that answers UNAVAILABLE (the code passed
through, ``failed to schedule job due to: rpc error: code = Unavailable desc = …``, HTTP 503), answered at once
instead of being retried on every replica until the sidecar's deadline."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import grpc
import pytest
from dapr.proto.runtime.v1 import dapr_pb2_grpc, jobs_pb2
from daprjobs.etcd.embedded import EtcdProcess

from tests.support.inprocess import start_stack, stop_stacks

pytestmark = pytest.mark.timeout(120)

# Well under the sidecar's 30 s scheduler deadline: an answer by then was not retried until that deadline.
ANSWER_BOUND_S = 15.0


async def test_schedule_job_with_etcd_down_answers_daprds_unavailable_error(etcd: EtcdProcess) -> None:
    stack = await start_stack(etcd, "app-etcd-down")
    try:
        await stack.sidecar.start()
        etcd.kill()
        async with grpc.aio.insecure_channel(stack.grpc_address) as channel:
            stub = dapr_pb2_grpc.DaprStub(channel)
            job = jobs_pb2.Job(name="down", due_time="10s")
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await asyncio.wait_for(stub.ScheduleJobAlpha1(jobs_pb2.ScheduleJobRequest(job=job)), ANSWER_BOUND_S)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        details = err.value.details() or ""
        assert details.startswith("failed to schedule job due to: rpc error: code = Unavailable desc = "
                                  "cannot schedule job: etcd unavailable"), details
        assert "AioRpcError" not in details and "debug_error_string" not in details

        async with aiohttp.ClientSession() as http:
            async with http.post(f"{stack.http_url}/v1.0-alpha1/jobs/down", json={"dueTime": "10s"},
                                 timeout=aiohttp.ClientTimeout(total=ANSWER_BOUND_S)) as resp:
                body = json.loads(await resp.read())
        assert resp.status == 503, body
        assert body["errorCode"] == "DAPR_SCHEDULER_SCHEDULE_JOB"
        assert "code = Unavailable desc = cannot schedule job: etcd unavailable" in body["message"]
    finally:
        etcd.start()
        await stop_stacks([stack])

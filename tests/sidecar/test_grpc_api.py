"""The gRPC Dapr service with a raw stub (wire-compat §A.5): every error, both RPC names, presence, limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from dapr.proto.runtime.v1 import configuration_pb2, dapr_pb2_grpc, jobs_pb2
from google.protobuf import any_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.support.inprocess import InProcessStack, StackFactory


@pytest.fixture
async def stub(make_stack: StackFactory) -> AsyncIterator[tuple[InProcessStack, dapr_pb2_grpc.DaprStub]]:
    stack = await make_stack("grpc-api", max_body_size=64 * 1024)
    async with grpc.aio.insecure_channel(stack.grpc_address) as channel:
        yield stack, dapr_pb2_grpc.DaprStub(channel)


def error_info(err: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None and len(status.details) == 1
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert info.domain == "dapr.io"
    return info


async def expect_error(call: Any, code: grpc.StatusCode, message: str, reason: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    err = info.value
    assert err.code() == code, err.details()
    assert err.details().startswith(message), err.details()
    got = error_info(err)
    assert got.reason == reason
    assert dict(got.metadata) == {"appID": "grpc-api", "namespace": "default"}


@pytest.mark.parametrize("alpha", [False, True])
async def test_schedule_errors(stub: tuple[InProcessStack, dapr_pb2_grpc.DaprStub], alpha: bool) -> None:
    _, dapr = stub
    schedule = dapr.ScheduleJobAlpha1 if alpha else dapr.ScheduleJob
    await expect_error(schedule(jobs_pb2.ScheduleJobRequest()), grpc.StatusCode.INVALID_ARGUMENT,
                       "Job is empty", "DAPR_SCHEDULER_EMPTY")
    await expect_error(schedule(jobs_pb2.ScheduleJobRequest(job=jobs_pb2.Job(schedule="@every 1s"))),
                       grpc.StatusCode.INVALID_ARGUMENT, "Name is empty", "DAPR_SCHEDULER_JOB_NAME_EMPTY")
    await expect_error(schedule(jobs_pb2.ScheduleJobRequest(job=jobs_pb2.Job(name="j"))),
                       grpc.StatusCode.INVALID_ARGUMENT, "Schedule is empty", "DAPR_SCHEDULER_SCHEDULE_EMPTY")
    for bad in (jobs_pb2.Job(name="j", schedule="every day"), jobs_pb2.Job(name="j", due_time="tomorrow"),
                jobs_pb2.Job(name="j", due_time="1s", repeats=2), jobs_pb2.Job(name="j", schedule="@every 1s",
                                                                               repeats=0),
                jobs_pb2.Job(name="a/b", schedule="@every 1s")):
        await expect_error(schedule(jobs_pb2.ScheduleJobRequest(job=bad)), grpc.StatusCode.INTERNAL,
                           "failed to schedule job due to: rpc error: code = Unknown desc = ",
                           "DAPR_SCHEDULER_SCHEDULE_JOB")
    await schedule(jobs_pb2.ScheduleJobRequest(job=jobs_pb2.Job(name="j", schedule="@every 1m")))
    await expect_error(schedule(jobs_pb2.ScheduleJobRequest(job=jobs_pb2.Job(name="j", schedule="@every 2m"))),
                       grpc.StatusCode.ALREADY_EXISTS,
                       "failed to schedule job due to: rpc error: code = AlreadyExists desc = job already exists: '",
                       "DAPR_SCHEDULER_SCHEDULE_JOB")
    await schedule(jobs_pb2.ScheduleJobRequest(job=jobs_pb2.Job(name="j", schedule="@every 2m"), overwrite=True))
    got = await (dapr.GetJobAlpha1 if alpha else dapr.GetJob)(jobs_pb2.GetJobRequest(name="j"))
    assert got.job.schedule == "@every 2m"


@pytest.mark.parametrize("alpha", [False, True])
async def test_get_and_delete_errors(stub: tuple[InProcessStack, dapr_pb2_grpc.DaprStub], alpha: bool) -> None:
    _, dapr = stub
    get = dapr.GetJobAlpha1 if alpha else dapr.GetJob
    delete = dapr.DeleteJobAlpha1 if alpha else dapr.DeleteJob
    await expect_error(get(jobs_pb2.GetJobRequest()), grpc.StatusCode.INVALID_ARGUMENT, "Name is empty",
                       "DAPR_SCHEDULER_JOB_NAME_EMPTY")
    await expect_error(delete(jobs_pb2.DeleteJobRequest()), grpc.StatusCode.INVALID_ARGUMENT, "Name is empty",
                       "DAPR_SCHEDULER_JOB_NAME_EMPTY")
    await expect_error(get(jobs_pb2.GetJobRequest(name="ghost")), grpc.StatusCode.INTERNAL,
                       "failed to get job due to: rpc error: code = NotFound desc = job not found: ghost",
                       "DAPR_SCHEDULER_GET_JOB")
    await delete(jobs_pb2.DeleteJobRequest(name="ghost"))  # idempotent OK


async def test_presence_and_data_are_kept_verbatim(stub: tuple[InProcessStack, dapr_pb2_grpc.DaprStub]) -> None:
    _, dapr = stub
    raw = any_pb2.Any(value=b'{"raw": true}')
    weird = any_pb2.Any(type_url="type.example.com/Custom", value=b"\x00\x01\xff")
    jobs = [
        jobs_pb2.Job(name="raw", schedule="@every 1h", repeats=0 + 1, data=raw),
        jobs_pb2.Job(name="empty-any", due_time="1h", data=any_pb2.Any()),
        jobs_pb2.Job(name="custom", due_time="2030-01-01T00:00:00Z", data=weird),
        jobs_pb2.Job(name="no-data", schedule="@daily", ttl="48h"),
    ]
    for job in jobs:
        await dapr.ScheduleJob(jobs_pb2.ScheduleJobRequest(job=job))
    for job in jobs:
        got = (await dapr.GetJob(jobs_pb2.GetJobRequest(name=job.name))).job
        for field in ("schedule", "repeats", "due_time", "ttl", "data"):
            assert got.HasField(field) == job.HasField(field), (job.name, field)
        assert got.data == job.data
        assert got.failure_policy.constant.interval.seconds == 1  # the scheduler's default
    listed = await dapr.ListJobs(jobs_pb2.ListJobsRequest())
    assert sorted(j.name for j in listed.jobs) == sorted(j.name for j in jobs)
    alpha = await dapr.ListJobsAlpha1(jobs_pb2.ListJobsRequestAlpha1())
    assert sorted(j.name for j in alpha.jobs) == sorted(j.name for j in jobs)


async def test_delete_by_prefix(stub: tuple[InProcessStack, dapr_pb2_grpc.DaprStub]) -> None:
    _, dapr = stub
    for name in ("batch-1", "batch-2", "other"):
        await dapr.ScheduleJob(jobs_pb2.ScheduleJobRequest(job=jobs_pb2.Job(name=name, due_time="1h")))
    await dapr.DeleteJobsByPrefix(jobs_pb2.DeleteJobsByPrefixRequest(name_prefix="batch-"))
    names = [j.name for j in (await dapr.ListJobs(jobs_pb2.ListJobsRequest())).jobs]
    assert names == ["other"]
    await dapr.DeleteJobsByPrefixAlpha1(jobs_pb2.DeleteJobsByPrefixRequestAlpha1())  # absent prefix: all
    assert list((await dapr.ListJobs(jobs_pb2.ListJobsRequest())).jobs) == []


async def test_other_rpcs_are_unimplemented_by_name(stub: tuple[InProcessStack, dapr_pb2_grpc.DaprStub]) -> None:
    _, dapr = stub
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await dapr.GetConfiguration(configuration_pb2.GetConfigurationRequest(store_name="s", keys=["k"]))
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "dapr.proto.runtime.v1.Dapr/GetConfiguration" in info.value.details()
    from dapr.proto.runtime.v1 import actors_pb2

    with pytest.raises(grpc.aio.AioRpcError) as actor:
        await dapr.RegisterActorReminder(actors_pb2.RegisterActorReminderRequest(actor_type="T", actor_id="1",
                                                                                 name="r"))
    assert actor.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "RegisterActorReminder" in actor.value.details()

    stream = dapr.SubscribeConfiguration(configuration_pb2.SubscribeConfigurationRequest(store_name="c"))
    with pytest.raises(grpc.aio.AioRpcError) as streaming:
        async for _ in stream:
            pass
    assert streaming.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "SubscribeConfiguration" in streaming.value.details()


async def test_message_over_max_body_size_is_refused(stub: tuple[InProcessStack, dapr_pb2_grpc.DaprStub]) -> None:
    _, dapr = stub
    big = jobs_pb2.Job(name="big", due_time="1h", data=any_pb2.Any(value=b"x" * (70 * 1024)))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await dapr.ScheduleJob(jobs_pb2.ScheduleJobRequest(job=big))
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    with pytest.raises(grpc.aio.AioRpcError):
        await dapr.GetJob(jobs_pb2.GetJobRequest(name="big"))

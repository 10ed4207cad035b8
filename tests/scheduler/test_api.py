"""The unary Scheduler API over real gRPC on a real etcd: CRUD, listing, bulk deletes and every error."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from dapr.proto.common.v1 import common_pb2
from daprjobs.proto.scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc
from daprjobs.proto.stored.v1 import stored_pb2
from daprjobs.scheduler.server import SchedulerReplica
from google.protobuf import duration_pb2

from .jobrequests import (
    NS,
    actor_meta,
    app_meta,
    drop_policy,
    payload,
    rpc_error,
    schedule,
)

pytestmark = pytest.mark.timeout(60)

FAR = "2099-01-01T00:00:00Z"


async def stored_keys(replica: SchedulerReplica) -> list[bytes]:
    """Every key the scheduler holds under its prefix, except membership."""
    keys: list[bytes] = []
    for prefix in (replica.keys.jobs_prefix, replica.keys.counters_prefix):
        async for _rev, kvs in replica.store.range_prefix(prefix, keys_only=True):
            keys.extend(kv.key for kv in kvs)
    return keys


async def listed(stub: scheduler_pb2_grpc.SchedulerStub, meta: scheduler_pb2.JobMetadata) -> list[str]:
    resp = await stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=meta))
    return sorted(j.name for j in resp.jobs)


# --- identity --------------------------------------------------------------------------------------------------


def _unary_calls(meta: scheduler_pb2.JobMetadata) -> dict[str, tuple[str, object]]:
    return {
        "ScheduleJob": ("ScheduleJob", scheduler_pb2.ScheduleJobRequest(
            name="j", job=scheduler_pb2.Job(schedule="@every 1s"), metadata=meta)),
        "GetJob": ("GetJob", scheduler_pb2.GetJobRequest(name="j", metadata=meta)),
        "DeleteJob": ("DeleteJob", scheduler_pb2.DeleteJobRequest(name="j", metadata=meta)),
        "ListJobs": ("ListJobs", scheduler_pb2.ListJobsRequest(metadata=meta)),
        "DeleteByNamePrefix": ("DeleteByNamePrefix", scheduler_pb2.DeleteByNamePrefixRequest(name_prefix="j",
                                                                                             metadata=meta)),
        "DeleteByMetadata": ("DeleteByMetadata", scheduler_pb2.DeleteByMetadataRequest(metadata=meta)),
    }


@pytest.mark.parametrize("missing", ["namespace", "app_id"])
async def test_every_unary_call_needs_namespace_and_app_id(stub: scheduler_pb2_grpc.SchedulerStub,
                                                           replica: SchedulerReplica, missing: str) -> None:
    meta = app_meta("app-ident")
    setattr(meta, missing, "")
    for label, (method, request) in _unary_calls(meta).items():
        err = await rpc_error(getattr(stub, method)(request))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, label
        assert err.details() == "missing namespace or appID in request", label
    assert await stored_keys(replica) == []


# --- validation ----------------------------------------------------------------------------------------------------

VALIDATION_CASES = [
    ({}, "job failed validation: job must have either a due time or a schedule"),
    ({"due_time": "10s", "repeats": 2}, "job failed validation: job must have a schedule to repeat"),
    ({"schedule": "@every 1s", "repeats": 0}, "job failed validation: defined repeats must be greater than 0"),
    ({"due_time": "10s", "ttl": "20s"}, "job failed validation: job must have a schedule to have a ttl"),
    ({"schedule": "* * *"}, "job failed validation: expected exactly 6 fields, found 3: [* * *]"),
    ({"schedule": "@fortnightly"}, "job failed validation: unrecognized descriptor: @fortnightly"),
    ({"schedule": "@every x"}, 'job failed validation: failed to parse duration @every x: time: invalid duration "x"'),
    ({"schedule": ""}, "job failed validation: empty spec string"),
    ({"schedule": "0 0 25 * * *"}, "job failed validation: end of range (25) above maximum (23): 25"),
    ({"schedule": "TZ=Nowhere/Town 0 0 * * * *"},
     "job failed validation: provided bad location Nowhere/Town: unknown time zone Nowhere/Town"),
    ({"due_time": "tomorrow"}, "job failed validation: due time format not recognized"),
    ({"due_time": "R5/PT1S"}, "job failed validation: repeats not supported for due time"),
    ({"schedule": "@every 1s", "ttl": "forever"}, "job failed validation: ttl format not recognized"),
    ({"schedule": "@every 1s", "due_time": "2099-01-01T00:00:10Z", "ttl": "2099-01-01T00:00:00Z"},
     "job failed validation: ttl must be greater than due time"),
]


@pytest.mark.parametrize(("job", "message"), VALIDATION_CASES, ids=[m.split(": ", 1)[1][:40] for _, m in
                                                                      VALIDATION_CASES])
async def test_validation_error_is_unknown_with_go_etcd_cron_text_and_stores_nothing(
        stub: scheduler_pb2_grpc.SchedulerStub, replica: SchedulerReplica, job: dict[str, Any],
        message: str) -> None:
    err = await rpc_error(schedule(stub, "bad-job", app_meta("app-valid"), **job))
    assert err.code() == grpc.StatusCode.UNKNOWN
    assert err.details() == message
    # Neither a create nor an overwrite of an existing job stores anything.
    await schedule(stub, "kept", app_meta("app-valid"), schedule="@every 1h", due_time=FAR)
    err = await rpc_error(schedule(stub, "kept", app_meta("app-valid"), overwrite=True, **job))
    assert err.details() == message
    got = await stub.GetJob(scheduler_pb2.GetJobRequest(name="kept", metadata=app_meta("app-valid")))
    assert got.job.schedule == "@every 1h"
    assert [k.rsplit(b"/", 1)[-1] for k in await stored_keys(replica)] == [b"app||default||app-valid||kept"]


@pytest.mark.parametrize(("name", "sanitized"), [("Bad/Name", "app||default||appname||Bad/Name"),
                                                 ("", None), ("a||", "app||default||appname||a||")])
async def test_invalid_job_name_is_refused(stub: scheduler_pb2_grpc.SchedulerStub, replica: SchedulerReplica,
                                           name: str, sanitized: str | None) -> None:
    err = await rpc_error(schedule(stub, name, app_meta("app-name"), schedule="@every 1s"))
    assert err.code() == grpc.StatusCode.UNKNOWN
    if sanitized is not None:
        assert err.details().startswith(f'job name is invalid "{sanitized}": ')
    else:
        assert err.details().startswith("job name is invalid")
    assert await stored_keys(replica) == []


async def test_oversized_data_is_resource_exhausted_and_stores_nothing(stub: scheduler_pb2_grpc.SchedulerStub,
                                                                       replica: SchedulerReplica) -> None:
    big = payload("x" * (5 * 1024 * 1024))
    err = await rpc_error(schedule(stub, "big", app_meta("app-big"), due_time=FAR, data=big))
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "big" in err.details()
    assert await stored_keys(replica) == []
    # Just under the limit is fine.
    await schedule(stub, "fits", app_meta("app-big"), due_time=FAR, data=payload("x" * (3 * 1024 * 1024)))
    got = await stub.GetJob(scheduler_pb2.GetJobRequest(name="fits", metadata=app_meta("app-big")))
    assert len(got.job.data.value) > 3 * 1024 * 1024


# --- create, get, overwrite, delete ------------------------------------------------------------------------------


async def test_create_get_roundtrip_with_default_failure_policy(stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    meta = app_meta("app-crud")
    await schedule(stub, "full", meta, schedule="@every 1h", repeats=5, due_time=FAR, ttl="2h",
                   data=payload("hello"))
    got = (await stub.GetJob(scheduler_pb2.GetJobRequest(name="full", metadata=meta))).job
    assert got.schedule == "@every 1h"
    assert got.repeats == 5
    assert got.due_time == FAR
    assert got.ttl == "2h"
    assert got.data == payload("hello")
    # go-etcd-cron stores its default policy (constant 1s, 3 retries) and Get returns it.
    assert got.failure_policy == common_pb2.JobFailurePolicy(constant=common_pb2.JobFailurePolicyConstant(
        interval=duration_pb2.Duration(seconds=1), max_retries=3))

    await schedule(stub, "dropper", meta, due_time=FAR, failure_policy=drop_policy())
    got = (await stub.GetJob(scheduler_pb2.GetJobRequest(name="dropper", metadata=meta))).job
    assert got.failure_policy.WhichOneof("policy") == "drop"
    assert not got.HasField("schedule")


async def test_already_exists_leaves_the_stored_job_unchanged(stub: scheduler_pb2_grpc.SchedulerStub,
                                                              replica: SchedulerReplica) -> None:
    meta = app_meta("app-dup")
    await schedule(stub, "once", meta, schedule="@every 1h", due_time=FAR, data=payload("first"))
    before = await replica.store.get(replica.keys.job("app||default||app-dup||once"))
    err = await rpc_error(schedule(stub, "once", meta, schedule="@every 2h", data=payload("second")))
    assert err.code() == grpc.StatusCode.ALREADY_EXISTS
    assert err.details() == "job already exists: 'app||default||app-dup||once'"
    after = await replica.store.get(replica.keys.job("app||default||app-dup||once"))
    assert before is not None and after is not None
    assert after.mod_revision == before.mod_revision
    assert after.value == before.value
    # Reminders compose their name from type and id, and say so.
    rmeta = actor_meta("app-dup", "Cart", "c1")
    await schedule(stub, "r", rmeta, due_time=FAR)
    err = await rpc_error(schedule(stub, "r", rmeta, due_time=FAR))
    assert err.details() == "job already exists: 'actorreminder||default||Cart||c1||r'"


async def test_overwrite_replaces_the_job(stub: scheduler_pb2_grpc.SchedulerStub, replica: SchedulerReplica) -> None:
    meta = app_meta("app-over")
    await schedule(stub, "j", meta, schedule="@every 1h", due_time=FAR, data=payload("v1"))
    first = await replica.store.get(replica.keys.job("app||default||app-over||j"))
    await schedule(stub, "j", meta, overwrite=True, due_time="2098-01-01T00:00:00Z", data=payload("v2"))
    got = (await stub.GetJob(scheduler_pb2.GetJobRequest(name="j", metadata=meta))).job
    assert not got.HasField("schedule")
    assert got.due_time == "2098-01-01T00:00:00Z"
    assert got.data == payload("v2")
    second = await replica.store.get(replica.keys.job("app||default||app-over||j"))
    assert first is not None and second is not None
    # A new incarnation: fresh partition id, so an old counter can never be mistaken for its own.
    assert stored_pb2.StoredJob.FromString(first.value).partition_id != stored_pb2.StoredJob.FromString(
        second.value).partition_id
    # Overwrite of a job that does not exist creates it.
    await schedule(stub, "new", meta, overwrite=True, due_time=FAR)
    assert await listed(stub, meta) == ["j", "new"]


async def test_get_and_delete_check_the_name_and_the_target(stub: scheduler_pb2_grpc.SchedulerStub,
                                                            replica: SchedulerReplica) -> None:
    meta = app_meta("app-names")
    await schedule(stub, "kept", meta, due_time=FAR)
    for call in (stub.GetJob(scheduler_pb2.GetJobRequest(name="Bad/Name", metadata=meta)),
                 stub.DeleteJob(scheduler_pb2.DeleteJobRequest(name="Bad/Name", metadata=meta))):
        err = await rpc_error(call)
        assert err.code() == grpc.StatusCode.UNKNOWN
        assert err.details().startswith('job name is invalid "app||default||appnames||Bad/Name": ')
    # Metadata without a target cannot name a job.
    no_target = scheduler_pb2.JobMetadata(app_id="app-names", namespace="default")
    for call in (stub.GetJob(scheduler_pb2.GetJobRequest(name="kept", metadata=no_target)),
                 stub.DeleteJob(scheduler_pb2.DeleteJobRequest(name="kept", metadata=no_target)),
                 stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=no_target)),
                 stub.DeleteByMetadata(scheduler_pb2.DeleteByMetadataRequest(metadata=no_target)),
                 schedule(stub, "x", no_target, due_time=FAR)):
        err = await rpc_error(call)
        assert err.code() == grpc.StatusCode.UNKNOWN
        assert err.details().startswith("failed to parse metadata: unknown job type")
    assert await listed(stub, meta) == ["kept"]


async def test_get_missing_is_not_found(stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    err = await rpc_error(stub.GetJob(scheduler_pb2.GetJobRequest(name="nope", metadata=app_meta("app-get"))))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert err.details() == "job not found: nope"


async def test_delete_is_idempotent_and_removes_job_and_counter(stub: scheduler_pb2_grpc.SchedulerStub,
                                                                replica: SchedulerReplica) -> None:
    meta = app_meta("app-del")
    await stub.DeleteJob(scheduler_pb2.DeleteJobRequest(name="never-was", metadata=meta))
    await schedule(stub, "gone", meta, due_time=FAR)
    # A counter as the engine would have written it.
    await replica.store.put(replica.keys.counter("app||default||app-del||gone"), stored_pb2.Counter(count=1)
                            .SerializeToString())
    await stub.DeleteJob(scheduler_pb2.DeleteJobRequest(name="gone", metadata=meta))
    err = await rpc_error(stub.GetJob(scheduler_pb2.GetJobRequest(name="gone", metadata=meta)))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    await stub.DeleteJob(scheduler_pb2.DeleteJobRequest(name="gone", metadata=meta))
    assert await stored_keys(replica) == []


# --- listing and bulk deletes ------------------------------------------------------------------------------------


async def test_list_jobs_per_app_and_per_actor_type_and_id(stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    await asyncio.gather(
        schedule(stub, "a1", app_meta("app-list-a"), due_time=FAR),
        schedule(stub, "a2||with-separator", app_meta("app-list-a"), due_time=FAR),
        schedule(stub, "b1", app_meta("app-list-b"), due_time=FAR),
        schedule(stub, "b1", app_meta("app-list-b", namespace="other-ns"), due_time=FAR),
        schedule(stub, "r1", actor_meta("app-list-a", "Cart", "c1"), due_time=FAR),
        schedule(stub, "r2", actor_meta("app-list-a", "Cart", "c1"), due_time=FAR),
        schedule(stub, "r1", actor_meta("app-list-a", "Cart", "c10"), due_time=FAR),
        schedule(stub, "r1", actor_meta("app-list-b", "Order", "o1"), due_time=FAR),
    )
    assert await listed(stub, app_meta("app-list-a")) == ["a1", "a2||with-separator"]
    assert await listed(stub, app_meta("app-list-b")) == ["b1"]
    assert await listed(stub, app_meta("app-list-b", namespace="other-ns")) == ["b1"]
    assert await listed(stub, app_meta("app-list-none")) == []
    # Per actor type (any app may ask), and per type and id (exactly that id, not c10).
    resp = await stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=actor_meta("app-list-b", "Cart")))
    assert sorted((j.metadata.target.actor.id, j.name) for j in resp.jobs) == [("c1", "r1"), ("c1", "r2"),
                                                                               ("c10", "r1")]
    assert all(j.metadata.app_id == "app-list-a" for j in resp.jobs)
    assert await listed(stub, actor_meta("app-list-a", "Cart", "c1")) == ["r1", "r2"]
    assert await listed(stub, actor_meta("app-list-a", "Order")) == ["r1"]
    # The listed job carries its schedule and metadata.
    resp = await stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=app_meta("app-list-b")))
    assert resp.jobs[0].job.due_time == FAR
    assert resp.jobs[0].metadata == app_meta("app-list-b")


async def test_delete_by_name_prefix(stub: scheduler_pb2_grpc.SchedulerStub, replica: SchedulerReplica) -> None:
    meta, other = app_meta("app-prefix"), app_meta("app-prefix-other")
    for name in ("test-1", "test-2", "tester", "other"):
        await schedule(stub, name, meta, due_time=FAR)
        await schedule(stub, name, other, due_time=FAR)
    await replica.store.put(replica.keys.counter("app||default||app-prefix||test-1"), b"")
    await stub.DeleteByNamePrefix(scheduler_pb2.DeleteByNamePrefixRequest(name_prefix="test-", metadata=meta))
    assert await listed(stub, meta) == ["other", "tester"]
    assert await listed(stub, other) == ["other", "test-1", "test-2", "tester"]
    assert replica.keys.counter("app||default||app-prefix||test-1") not in await stored_keys(replica)
    # An empty prefix deletes every job of the target, and only those.
    await stub.DeleteByNamePrefix(scheduler_pb2.DeleteByNamePrefixRequest(name_prefix="", metadata=meta))
    assert await listed(stub, meta) == []
    assert await listed(stub, other) == ["other", "test-1", "test-2", "tester"]
    # A prefix that cannot be part of a valid name is refused with go-etcd-cron's plain error (Unknown).
    err = await rpc_error(stub.DeleteByNamePrefix(scheduler_pb2.DeleteByNamePrefixRequest(name_prefix="bad/",
                                                                                          metadata=other)))
    assert err.code() == grpc.StatusCode.UNKNOWN
    assert err.details().startswith('job name is invalid "app||default||appprefixother||bad/a": ')
    assert await listed(stub, other) == ["other", "test-1", "test-2", "tester"]


async def test_delete_by_metadata_with_and_without_id_prefix_match(stub: scheduler_pb2_grpc.SchedulerStub,
                                                                   replica: SchedulerReplica) -> None:
    for actor_id in ("a1", "a10", "a2", "b1"):
        await schedule(stub, "r", actor_meta("app-dbm", "Cart", actor_id), due_time=FAR)
    await schedule(stub, "r", actor_meta("app-dbm", "Order", "a1"), due_time=FAR)
    await schedule(stub, "j", app_meta("app-dbm"), due_time=FAR)

    def ids(resp: scheduler_pb2.ListJobsResponse) -> list[str]:
        return sorted(j.metadata.target.actor.id for j in resp.jobs)

    cart = actor_meta("app-dbm", "Cart")
    # Exact id: a1 only, not a10.
    await stub.DeleteByMetadata(scheduler_pb2.DeleteByMetadataRequest(metadata=actor_meta("app-dbm", "Cart", "a1")))
    assert ids(await stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=cart))) == ["a10", "a2", "b1"]
    # Id prefix: every id starting with "a".
    await stub.DeleteByMetadata(scheduler_pb2.DeleteByMetadataRequest(metadata=actor_meta("app-dbm", "Cart", "a"),
                                                                      id_prefix_match=True))
    assert ids(await stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=cart))) == ["b1"]
    # The same id under another actor type and the app's own jobs are untouched.
    assert await listed(stub, actor_meta("app-dbm", "Order")) == ["r"]
    assert await listed(stub, app_meta("app-dbm")) == ["j"]
    # Type only: every reminder of the type.
    await stub.DeleteByMetadata(scheduler_pb2.DeleteByMetadataRequest(metadata=cart))
    assert ids(await stub.ListJobs(scheduler_pb2.ListJobsRequest(metadata=cart))) == []
    # App metadata: the app's jobs.
    await stub.DeleteByMetadata(scheduler_pb2.DeleteByMetadataRequest(metadata=app_meta("app-dbm")))
    assert await listed(stub, app_meta("app-dbm")) == []
    assert await listed(stub, actor_meta("app-dbm", "Order")) == ["r"]


# --- WatchJobs handshake -----------------------------------------------------------------------------------------


async def _first_error(stub: scheduler_pb2_grpc.SchedulerStub,
                       first: scheduler_pb2.WatchJobsRequest) -> grpc.aio.AioRpcError:
    async def requests():  # type: ignore[no-untyped-def]
        yield first
        await asyncio.sleep(30)

    call = stub.WatchJobs(requests())
    try:
        async for _ in call:
            raise AssertionError("the stream sent a message instead of failing")
    except grpc.aio.AioRpcError as exc:
        return exc
    raise AssertionError("the stream ended without an error")


async def test_watch_jobs_needs_an_initial_first(stub: scheduler_pb2_grpc.SchedulerStub) -> None:
    err = await asyncio.wait_for(_first_error(stub, scheduler_pb2.WatchJobsRequest(
        result=scheduler_pb2.WatchJobsRequestResult(id=1))), 10)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details() == "initial request is required on stream connection"

    err = await asyncio.wait_for(_first_error(stub, scheduler_pb2.WatchJobsRequest(
        initial=scheduler_pb2.WatchJobsRequestInitial(app_id="", namespace=NS))), 10)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details() == "missing namespace or appID in request"

    err = await asyncio.wait_for(_first_error(stub, scheduler_pb2.WatchJobsRequest(
        initial=scheduler_pb2.WatchJobsRequestInitial(app_id="a", namespace=NS, accept_job_types=[
            scheduler_pb2.JOB_TARGET_TYPE_JOB, scheduler_pb2.JOB_TARGET_TYPE_JOB]))), 10)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details() == "duplicate target type specified: JOB_TARGET_TYPE_JOB"

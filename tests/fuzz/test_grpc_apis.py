"""Property-based fuzzing of the sidecar's Dapr gRPC API (Jobs methods, and undecodable bytes to any method) and the
scheduler's gRPC API (every unary method, fuzzed job and metadata).

Invariants: every call is answered within the bound (never DEADLINE_EXCEEDED); never UNKNOWN (an unhandled Python
exception: daprd answers INTERNAL or a specific code); no traceback in a message; guarded jobs byte-identical.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from dapr.proto.runtime.v1 import dapr_pb2
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from google.protobuf import any_pb2, message_factory
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import APP_ID, GUARD_PREFIX, REQUEST_TIMEOUT_S, FuzzStack, fuzz_settings
from tests.fuzz.strategies import app_ids, names, namespaces, schedules, text, times

DAPR_METHODS = dapr_pb2.DESCRIPTOR.services_by_name["Dapr"].methods_by_name
SCHEDULER_METHODS = scheduler_pb2.DESCRIPTOR.services_by_name["Scheduler"].methods_by_name


def request_class(method: Any) -> Any:
    return message_factory.GetMessageClass(method.input_type)


def safe_prefix(prefix: str) -> bool:
    """A name prefix that cannot reach a guarded job."""
    return not GUARD_PREFIX.startswith(prefix) and not prefix.startswith(GUARD_PREFIX)


any_data = st.builds(any_pb2.Any, type_url=st.one_of(text, st.just("type.googleapis.com/google.protobuf.StringValue")),
                     value=st.binary(max_size=64))
uint32 = st.integers(min_value=0, max_value=2**32 - 1)
dapr_jobs = st.builds(
    request_class(DAPR_METHODS["ScheduleJobAlpha1"]).DESCRIPTOR.fields_by_name["job"].message_type._concrete_class,
    name=names, schedule=st.one_of(st.none(), schedules), repeats=st.one_of(st.none(), uint32),
    due_time=st.one_of(st.none(), times), ttl=st.one_of(st.none(), times), data=st.one_of(st.none(), any_data),
)
dapr_calls: st.SearchStrategy[tuple[str, dict[str, Any]]] = st.one_of(
    st.builds(lambda job, overwrite: ("ScheduleJobAlpha1", {"job": job, "overwrite": overwrite}),
              dapr_jobs, st.booleans()),
    names.map(lambda n: ("GetJobAlpha1", {"name": n})),
    names.map(lambda n: ("DeleteJobAlpha1", {"name": n})),
    text.filter(safe_prefix).map(lambda p: ("DeleteJobsByPrefixAlpha1", {"name_prefix": p})),
    st.just(("ListJobsAlpha1", {})),
)


def assert_handled(err: grpc.RpcError, what: str, *, plain_errors_unknown: bool = False) -> None:
    """No hang, no leaked Python exception. ``plain_errors_unknown``: Dapr's Scheduler answers its validation errors
    as plain Go errors, i.e. UNKNOWN with a clean message; daprd's API never answers UNKNOWN."""
    code, details = err.code(), err.details() or ""
    assert code != grpc.StatusCode.DEADLINE_EXCEEDED, f"{what}: not answered within {REQUEST_TIMEOUT_S}s"
    assert plain_errors_unknown or code != grpc.StatusCode.UNKNOWN, f"{what}: {code} {details}"
    for leak in ("Traceback", "Exception calling application", "Unexpected <class", "Unexpected ["):
        assert leak not in details, f"{what}: {code} {details}"


def call(channel: grpc.Channel, service: str, method: Any, request: Any) -> None:
    response_class = message_factory.GetMessageClass(method.output_type)
    rpc = channel.unary_unary(f"/{service}/{method.name}", request_serializer=lambda m: m.SerializeToString(),
                              response_deserializer=response_class.FromString)
    try:
        rpc(request, timeout=REQUEST_TIMEOUT_S)
    except grpc.RpcError as err:
        assert_handled(err, f"{method.name}({request!r:.300})", plain_errors_unknown=service.endswith("Scheduler"))


@pytest.fixture(scope="module")
def sidecar_channel(fuzz_stack: FuzzStack) -> Any:
    with grpc.insecure_channel(fuzz_stack.sidecar_grpc) as channel:
        yield channel


@pytest.fixture(scope="module")
def scheduler_channel(fuzz_stack: FuzzStack) -> Any:
    with grpc.insecure_channel(fuzz_stack.scheduler_grpc) as channel:
        yield channel


@fuzz_settings(bounded_examples=100)
@given(dapr_call=dapr_calls)
def test_sidecar_grpc_jobs_calls_are_handled(fuzz_stack: FuzzStack, sidecar_channel: grpc.Channel,
                                             dapr_call: tuple[str, dict[str, Any]]) -> None:
    name, fields = dapr_call
    method = DAPR_METHODS[name]
    call(sidecar_channel, "dapr.proto.runtime.v1.Dapr", method, request_class(method)(**fields))
    fuzz_stack.assert_guarded_jobs_unchanged()


@fuzz_settings(bounded_examples=40)
@given(name=st.sampled_from(sorted(n for n, m in DAPR_METHODS.items()
                                   if not m.client_streaming and not m.server_streaming)),
       payload=st.binary(min_size=1, max_size=64))
def test_sidecar_grpc_undecodable_requests_are_refused(fuzz_stack: FuzzStack, sidecar_channel: grpc.Channel,
                                                       name: str, payload: bytes) -> None:
    rpc = sidecar_channel.unary_unary(f"/dapr.proto.runtime.v1.Dapr/{name}")
    try:
        rpc(payload, timeout=REQUEST_TIMEOUT_S)
    except grpc.RpcError as err:
        assert_handled(err, f"{name}({payload!r})")
    fuzz_stack.assert_guarded_jobs_unchanged()


targets = st.one_of(
    st.just(scheduler_pb2.JobTargetMetadata(job=scheduler_pb2.TargetJob())),
    st.builds(lambda t, i: scheduler_pb2.JobTargetMetadata(actor=scheduler_pb2.TargetActorReminder(type=t, id=i)),
              text, text),
    st.just(scheduler_pb2.JobTargetMetadata()),
)
job_metadata = st.builds(scheduler_pb2.JobMetadata, app_id=app_ids, namespace=namespaces, target=targets)
# DeleteByMetadata may match app ids by prefix: never in the namespaces that hold guarded jobs.
foreign_metadata = st.builds(scheduler_pb2.JobMetadata, app_id=app_ids,
                             namespace=namespaces.filter(lambda n: n != "default"), target=targets)
scheduler_jobs = st.builds(scheduler_pb2.Job, schedule=st.one_of(st.none(), schedules),
                           repeats=st.one_of(st.none(), uint32), due_time=st.one_of(st.none(), times),
                           ttl=st.one_of(st.none(), times), data=st.one_of(st.none(), any_data))
scheduler_calls = st.one_of(
    st.builds(lambda n, j, m, o: ("ScheduleJob", scheduler_pb2.ScheduleJobRequest(name=n, job=j, metadata=m,
                                                                                  overwrite=o)),
              names, scheduler_jobs, job_metadata, st.booleans()),
    st.builds(lambda n, m: ("GetJob", scheduler_pb2.GetJobRequest(name=n, metadata=m)), names, job_metadata),
    st.builds(lambda n, m: ("DeleteJob", scheduler_pb2.DeleteJobRequest(name=n, metadata=m)), names, job_metadata),
    job_metadata.map(lambda m: ("ListJobs", scheduler_pb2.ListJobsRequest(metadata=m))),
    st.builds(lambda m, p: ("DeleteByMetadata", scheduler_pb2.DeleteByMetadataRequest(metadata=m,
                                                                                      id_prefix_match=p)),
              foreign_metadata, st.booleans()),
    st.builds(lambda p, m: ("DeleteByNamePrefix", scheduler_pb2.DeleteByNamePrefixRequest(name_prefix=p,
                                                                                          metadata=m)),
              text.filter(safe_prefix), job_metadata),
)


@fuzz_settings(bounded_examples=100)
@given(scheduler_call=scheduler_calls)
def test_scheduler_grpc_calls_are_handled(fuzz_stack: FuzzStack, scheduler_channel: grpc.Channel,
                                          scheduler_call: tuple[str, Any]) -> None:
    name, request = scheduler_call
    call(scheduler_channel, "dapr.proto.scheduler.v1.Scheduler", SCHEDULER_METHODS[name], request)
    fuzz_stack.assert_guarded_jobs_unchanged()


def test_the_sidecar_app_is_the_guarded_one() -> None:
    """The fuzzers' filters assume the sidecar's app id; a change there must be made in both places."""
    assert APP_ID == "fuzz-app"

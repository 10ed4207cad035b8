"""The committed generated code must match what `make proto` produces from proto/."""

from __future__ import annotations

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("proto_generate", ROOT / "proto" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_code_is_fresh(tmp_path: pathlib.Path) -> None:
    generator = _load_generator()
    written = generator.generate(tmp_path)
    assert written, "generator wrote nothing"
    stale = []
    for fresh in written:
        committed = ROOT / "component" / fresh.relative_to(tmp_path)
        if not committed.exists() or committed.read_text() != fresh.read_text():
            stale.append(str(committed.relative_to(ROOT)))
    assert not stale, f"generated code is stale, run `make proto`: {stale}"


def test_scheduler_proto_is_wire_compatible_with_dapr() -> None:
    from daprjobs.proto.scheduler.v1 import scheduler_pb2

    service = scheduler_pb2.DESCRIPTOR.services_by_name["Scheduler"]
    assert service.full_name == "dapr.proto.scheduler.v1.Scheduler"
    assert set(service.methods_by_name) == {
        "ScheduleJob", "GetJob", "DeleteJob", "WatchJobs", "ListJobs", "WatchHosts",
        "DeleteByMetadata", "DeleteByNamePrefix",
    }
    job = scheduler_pb2.Job.DESCRIPTOR
    assert {f.name: f.number for f in job.fields} == {
        "schedule": 1, "repeats": 2, "due_time": 3, "ttl": 4, "data": 5, "failure_policy": 6,
    }
    assert job.fields_by_name["failure_policy"].message_type.full_name == "dapr.proto.common.v1.JobFailurePolicy"
    assert {f.name: f.number for f in scheduler_pb2.WatchJobsResponse.DESCRIPTOR.fields} == {
        "name": 1, "id": 2, "data": 3, "metadata": 4,
        # daprjobs' extensions, numbered far from Dapr's: daprd skips them as unknown. The tick of the trigger, and
        # a batch of triggers, sent only on streams that asked for it (scheduler/watch_batching.py).
        "daprjobs_scheduled_unix_ns": 1001, "daprjobs_batch": 1002,
    }
    assert {f.name: f.number for f in scheduler_pb2.WatchJobsRequest.DESCRIPTOR.fields} == {
        "initial": 1, "result": 2,
        # daprjobs' batched acks, sent only to a scheduler that confirmed batching: Dapr's never gets one.
        "daprjobs_results": 1002,
    }

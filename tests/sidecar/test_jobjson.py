"""The JSON forms of a job: POST body parsing, GET rendering, HTTP trigger bodies (Go protojson rules)."""

from __future__ import annotations

import json

import pytest
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import jobs_pb2
from daprjobs.sidecar.jobs.jobjson import (
    VALUE_TYPE_URL,
    JobJSONError,
    JobRenderError,
    http_trigger_body,
    parse_job_http_body,
    render_job,
    render_value,
)
from google.protobuf import any_pb2, duration_pb2, struct_pb2, wrappers_pb2


def value_any(py: object) -> any_pb2.Any:
    value = struct_pb2.Value()
    from google.protobuf import json_format

    json_format.ParseDict(py, value)
    data = any_pb2.Any()
    data.Pack(value)
    return data


def test_empty_body_is_an_empty_request() -> None:
    req = parse_job_http_body(b"")
    assert req.schedule is None and req.due_time is None and req.data is None and not req.overwrite


def test_camel_and_snake_names_both_work() -> None:
    camel = parse_job_http_body(b'{"dueTime":"10s","failurePolicy":{"constant":{"interval":"3s","maxRetries":5}}}')
    snake = parse_job_http_body(b'{"due_time":"10s","failure_policy":{"constant":{"interval":"3s","max_retries":5}}}')
    assert camel.due_time == snake.due_time == "10s"
    assert camel.failure_policy == snake.failure_policy
    assert camel.failure_policy is not None
    assert camel.failure_policy.constant.interval.seconds == 3
    assert camel.failure_policy.constant.max_retries == 5


def test_unknown_fields_are_ignored_and_repeats_accepts_numeric_strings() -> None:
    req = parse_job_http_body(b'{"schedule":"@every 1s","repeats":"7","whatever":{"x":1}}')
    assert req.schedule == "@every 1s" and req.repeats == 7


@pytest.mark.parametrize("body", [b"[{}]", b'{"repeats":-1}', b'{"repeats":1.5}', b'{"schedule":5}',
                                  b'{"overwrite":"yes"}', b"{not json", b'{"repeats":4294967296}'])
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(JobJSONError):
        parse_job_http_body(body)


@pytest.mark.parametrize("data", ["hello world", 123, 1.5, {"a": [1, 2]}, [True, None], True, None])
def test_data_of_every_json_kind_becomes_a_packed_value(data: object) -> None:
    req = parse_job_http_body(json.dumps({"schedule": "@every 1m", "data": data}).encode())
    job = req.to_job("n")
    assert job.data.type_url == VALUE_TYPE_URL
    assert json.loads(http_trigger_body(job.data)) == data


def test_absent_data_means_no_data_field() -> None:
    job = parse_job_http_body(b'{"dueTime":"1s"}').to_job("n")
    assert not job.HasField("data")
    assert http_trigger_body(None) == b""


def test_value_numbers_render_like_go() -> None:
    assert render_value(struct_pb2.Value(number_value=123)) == b"123"
    assert render_value(struct_pb2.Value(number_value=-0.5)) == b"-0.5"
    assert render_value(struct_pb2.Value(number_value=1e21)) == b"1e+21"
    assert render_value(struct_pb2.Value(number_value=1.5e-7)) == b"1.5e-7"
    assert render_value(struct_pb2.Value(number_value=1e16)) == b"10000000000000000"


def test_strings_keep_unicode_and_objects_sort_keys() -> None:
    assert http_trigger_body(value_any("hé \"q\"")) == '"hé \\"q\\""'.encode()
    assert http_trigger_body(value_any({"b": 1, "a": "x"})) == b'{"a":"x","b":1}'


def test_raw_any_body_is_trimmed_bytes() -> None:
    raw = any_pb2.Any(value=b'  {"a": 1}\n')
    assert http_trigger_body(raw) == b'{"a": 1}'


def test_value_with_no_kind_gives_empty_body() -> None:
    data = any_pb2.Any()
    data.Pack(struct_pb2.Value())
    assert http_trigger_body(data) == b""


def test_render_job_full() -> None:
    job = jobs_pb2.Job(name="test", schedule="@every 1m", repeats=123, due_time="1000s", ttl="123s")
    job.data.CopyFrom(value_any("hello world"))
    job.failure_policy.CopyFrom(common_pb2.JobFailurePolicy(
        constant=common_pb2.JobFailurePolicyConstant(interval=duration_pb2.Duration(seconds=3), max_retries=5)))
    assert json.loads(render_job(job)) == {
        "name": "test", "schedule": "@every 1m", "repeats": 123, "dueTime": "1000s", "ttl": "123s",
        "data": {"@type": "type.googleapis.com/google.protobuf.Value", "value": "hello world"},
        "failurePolicy": {"constant": {"interval": "3s", "maxRetries": 5}},
    }


def test_render_job_data_shapes() -> None:
    job = jobs_pb2.Job(name="n", due_time="1s")
    job.data.CopyFrom(any_pb2.Any())
    assert json.loads(render_job(job))["data"] == {}
    job.data.Pack(wrappers_pb2.StringValue(value="hi"))
    assert json.loads(render_job(job))["data"] == {"@type": "type.googleapis.com/google.protobuf.StringValue",
                                                  "value": "hi"}
    job.data.CopyFrom(any_pb2.Any(value=b'{"a":1}'))
    with pytest.raises(JobRenderError):
        render_job(job)
    job.ClearField("data")
    assert "data" not in json.loads(render_job(job))


def test_drop_policy_renders_as_empty_object() -> None:
    job = jobs_pb2.Job(name="n", due_time="1s", failure_policy=common_pb2.JobFailurePolicy(
        drop=common_pb2.JobFailurePolicyDrop()))
    assert json.loads(render_job(job))["failurePolicy"] == {"drop": {}}


@pytest.mark.parametrize("depth", [50, 150, 5000])
def test_deeply_nested_data_is_a_client_error(depth: int) -> None:
    """Issue 13 defect 4: ``Message too deep`` and RecursionError were a 500; they are malformed requests."""
    body = b'{"dueTime":"1h","data":' + b"[" * depth + b"]" * depth + b"}"
    if depth <= 90:
        assert parse_job_http_body(body).data is not None
        return
    with pytest.raises(JobJSONError):
        parse_job_http_body(body)

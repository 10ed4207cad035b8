"""Reminder requests ↔ scheduler jobs (pure, wire-compat §D.2-D.4, scheduler-internals §7)."""

from __future__ import annotations

import base64
import json

import grpc
import pytest
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import actors_pb2
from daprjobs.actors import reminders
from daprjobs.actors.actor_errors import ActorApiError
from daprjobs.core import timeunits
from daprjobs.proto.scheduler.v1 import scheduler_pb2
from google.protobuf import any_pb2, wrappers_pb2

NOW = 1_700_000_000 * timeunits.NS_PER_SECOND


def stored_json(job: scheduler_pb2.Job) -> bytes:
    assert job.data.type_url == "type.googleapis.com/google.protobuf.BytesValue"
    value = wrappers_pb2.BytesValue()
    job.data.Unpack(value)
    return value.value


def request(body: bytes, name: str = "r1") -> scheduler_pb2.ScheduleJobRequest:
    spec = reminders.parse_http_reminder("Demo", "a1", name, body)
    return reminders.schedule_request(spec, "app", "default", NOW)


def test_python_sdk_body_maps_to_an_every_schedule_with_its_data_verbatim() -> None:
    body = '{"reminderName":"r1","dueTime":"0h0m10s0ms0\\u03bcs","period":"0h0m5s0ms0\\u03bcs","data":"aGVsbG8="}'
    req = request(body.encode())
    assert req.name == "r1"
    assert req.overwrite is True
    assert req.job.schedule == "@every 5s"
    assert not req.job.HasField("repeats")
    assert req.job.due_time == "0h0m10s0ms0μs"
    assert not req.job.HasField("ttl")
    assert stored_json(req.job) == b'"aGVsbG8="'
    assert not req.job.HasField("failure_policy")
    actor = req.metadata.target.actor
    assert (req.metadata.app_id, req.metadata.namespace, actor.type, actor.id) == ("app", "default", "Demo", "a1")


def test_iso_period_with_repeats() -> None:
    req = request(b'{"dueTime":"0s","period":"R3/PT1S","data":"eA=="}')
    assert req.job.schedule == "@every 1s"
    assert req.job.repeats == 3


@pytest.mark.parametrize("period", ["null", '""'])
def test_null_or_empty_period_is_a_one_shot(period: str) -> None:
    req = request(f'{{"dueTime":"0h0m0s0ms0\\u03bcs","period":{period}}}'.encode())
    assert not req.job.HasField("schedule")
    assert not req.job.HasField("repeats")
    assert req.job.due_time == "0h0m0s0ms0μs"
    assert not req.job.HasField("data")


def test_node_body_keeps_raw_json_data_and_go_durations() -> None:
    req = request(b'{"period":"10s","dueTime":"5s","data":{ "count" : 3, "tags": ["a"] }}')
    assert req.job.schedule == "@every 10s"
    assert stored_json(req.job) == b'{ "count" : 3, "tags": ["a"] }'


def test_rfc3339_due_time_and_ttl_pass_through() -> None:
    req = request(b'{"dueTime":"2030-01-01T00:00:00Z","period":"1m30s","ttl":"2031-01-01T00:00:00Z"}')
    assert req.job.due_time == "2030-01-01T00:00:00Z"
    assert req.job.ttl == "2031-01-01T00:00:00Z"
    assert req.job.schedule == "@every 1m30s"


def test_overwrite_false_and_failure_policy_in_both_spellings() -> None:
    python_style = (
        b'{"dueTime":"1s","period":"1s","overwrite":false,'
        b'"failurePolicy":{"constant":{"interval":"0h0m2s0ms0\\u03bcs","maxRetries":3}}}'
    )
    req = request(python_style)
    assert req.overwrite is False
    assert req.job.failure_policy.constant.interval.seconds == 2
    assert req.job.failure_policy.constant.max_retries == 3
    snake = request(b'{"dueTime":"1s","failure_policy":{"constant":{"interval":"500ms","max_retries":0}}}')
    assert snake.job.failure_policy.constant.interval.nanos == 500_000_000
    assert snake.job.failure_policy.constant.HasField("max_retries")
    assert snake.job.failure_policy.constant.max_retries == 0
    drop = request(b'{"dueTime":"1s","failurePolicy":{"drop":{}}}')
    assert drop.job.failure_policy.HasField("drop")


def expect_error(body: bytes, status: int, code: str, text: str = "") -> ActorApiError:
    with pytest.raises(ActorApiError) as info:
        request(body)
    err = info.value
    assert (err.http_status, err.error_code) == (status, code)
    assert text in err.message
    assert json.loads(err.http_body()) == {"errorCode": code, "message": err.message}
    return err


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b'{"dueTime":"1s","period":"P1D"}', "unsupported period format: P1D"),
        (b'{"dueTime":"1s","period":"P1Y"}', "unsupported period format"),
        (b'{"dueTime":"1s","period":"R0/PT1S"}', "unsupported period format"),
        (b'{"dueTime":"1s","period":"every second"}', "unsupported period format"),
        (b'{"dueTime":"soon","period":"1s"}', "due time format not recognized"),
        (b'{"dueTime":"R2/PT1S","period":"1s"}', "repeats not supported for due time"),
        (b'{"dueTime":"1s","period":"1s","ttl":"later"}', "ttl format not recognized"),
        (b'{"dueTime":"1s","ttl":"1m"}', "job must have a schedule to have a ttl"),
        (b'{"data":"x"}', "job must have either a due time or a schedule"),
        (b'{"dueTime":"1h","period":"1s","ttl":"2000-01-01T00:00:00Z"}', "ttl must be greater than due time"),
    ],
)
def test_bad_times_are_reminder_create_errors(body: bytes, text: str) -> None:
    err = expect_error(body, 500, "ERR_ACTOR_REMINDER_CREATE", text)
    assert err.grpc_code == grpc.StatusCode.INTERNAL
    assert err.message.startswith("error creating actor reminder: ")


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[1,2]", b'"x"', b'{"dueTime":5}', b'{"period":true}', b'{"overwrite":"yes"}',
     b'{"dueTime":"1s","failurePolicy":{"other":{}}}', b'{"dueTime":"1s","failurePolicy":{"constant":'
     b'{"interval":"2 seconds"}}}'],
)
def test_malformed_bodies_are_400(body: bytes) -> None:
    err = expect_error(body, 400, "ERR_MALFORMED_REQUEST")
    assert err.grpc_code == grpc.StatusCode.INVALID_ARGUMENT


def test_grpc_registration_json_marshals_the_bytes() -> None:
    grpc_req = actors_pb2.RegisterActorReminderRequest(
        actor_type="Demo", actor_id="a1", name="r", due_time="PT5S", period="PT10S", data=b"mydata"
    )
    spec = reminders.reminder_from_grpc(grpc_req)
    assert spec.data == json.dumps(base64.b64encode(b"mydata").decode()).encode() == b'"bXlkYXRh"'
    assert spec.overwrite is True
    job = reminders.schedule_request(spec, "app", "ns", NOW).job
    assert job.schedule == "@every 10s" and job.due_time == "PT5S"
    assert reminders.fire_body(job.data) == b'{"data":"bXlkYXRh","dueTime":"","period":""}'

    grpc_req.overwrite = False
    grpc_req.data = b""
    grpc_req.failure_policy.CopyFrom(common_pb2.JobFailurePolicy(drop=common_pb2.JobFailurePolicyDrop()))
    spec = reminders.reminder_from_grpc(grpc_req)
    assert spec.data is None and spec.overwrite is False
    assert spec.failure_policy is not None and spec.failure_policy.HasField("drop")


@pytest.mark.parametrize(
    ("registered", "fire"),
    [
        (b'"foo"', b'{"data":"foo","dueTime":"","period":""}'),
        (b'{  "foo": [ 12, 4 ] }', b'{"data":{"foo":[12,4]},"dueTime":"","period":""}'),
        (b"true", b'{"data":true,"dueTime":"","period":""}'),
        (b"null", b'{"data":null,"dueTime":"","period":""}'),
        (b"[]", b'{"data":[],"dueTime":"","period":""}'),
        (b"123", b'{"data":123,"dueTime":"","period":""}'),
        (b'"<&>"', b'{"data":"\\u003c\\u0026\\u003e","dueTime":"","period":""}'),
    ],
)
def test_fire_body_echoes_the_registered_data(registered: bytes, fire: bytes) -> None:
    assert reminders.fire_body(reminders.data_any(registered)) == fire


def test_fire_body_without_data_omits_the_key() -> None:
    assert reminders.fire_body(None) == b'{"dueTime":"","period":""}'


def test_get_view_renders_like_daprd() -> None:
    req = request(b'{"data":"reminderdata","dueTime":"1s","period":"1s","ttl":"2552-01-01T00:00:00Z"}')
    view = reminders.view_from_job("foo", "1234", "r1", req.job)
    assert json.loads(reminders.http_get_body(view)) == {
        "actorID": "1234",
        "actorType": "foo",
        "data": "reminderdata",
        "dueTime": "1s",
        "period": "@every 1s",
        "ttl": "2552-01-01T00:00:00Z",
    }
    grpc_resp = reminders.grpc_get_response(view)
    assert grpc_resp.period == "@every 1s" and grpc_resp.due_time == "1s"
    value = wrappers_pb2.BytesValue()
    grpc_resp.data.Unpack(value)
    assert value.value == b'"reminderdata"'


def test_get_view_drops_a_relative_ttl_and_empty_fields() -> None:
    job = scheduler_pb2.Job(schedule="@every 2s", ttl="10m")
    view = reminders.view_from_job("T", "i", "n", job)
    assert view.ttl == "" and view.due_time == ""
    assert json.loads(reminders.http_get_body(view)) == {"actorID": "i", "actorType": "T", "period": "@every 2s"}
    named = reminders.grpc_named_reminder(view)
    assert named.name == "n" and not named.reminder.HasField("ttl") and not named.reminder.HasField("data")


def test_data_json_of_a_non_bytes_any_is_protojson() -> None:
    packed = any_pb2.Any()
    packed.Pack(wrappers_pb2.StringValue(value="x"))
    rendered = reminders.data_json(packed)
    assert rendered is not None and json.loads(rendered)["value"] == "x"

"""Pure mapping between actor reminder requests and scheduler jobs (scheduler-internals §7, wire-compat §D.2-D.4).

A reminder is the scheduler job ``actorreminder||<ns>||<type>||<id>||<name>``:
- ``period`` (Go duration or ISO ``[Rn/]PT…``) becomes ``schedule = "@every <go duration>"`` plus ``repeats``;
  null or "" means a one-shot reminder; years, months, days and ``R0`` are rejected;
- ``dueTime`` and ``ttl`` go through unchanged (RFC3339, Go duration, ISO-8601), after a local check so a bad
  value gets a clear error before any I/O;
- ``data`` is stored as ``Any(BytesValue(<raw JSON>))``: over HTTP the raw JSON value as sent, over gRPC the
  request bytes JSON-marshalled the way Go does (a base64 JSON string);
- ``overwrite`` defaults to true; a failure policy is accepted as ``failurePolicy`` or ``failure_policy``.
No I/O here.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import actors_pb2
from google.protobuf import any_pb2, duration_pb2, json_format, wrappers_pb2

from daprjobs.actors import actor_errors
from daprjobs.actors.rawjson import RawJsonError, RawMember, find_member, go_compact, object_members
from daprjobs.core import go_duration, rfc3339, timefields
from daprjobs.proto.scheduler.v1 import scheduler_pb2

BYTES_VALUE_TYPE_URL = "type.googleapis.com/google.protobuf.BytesValue"


@dataclass(frozen=True)
class ReminderSpec:
    """One reminder registration, transport-independent."""

    actor_type: str
    actor_id: str
    name: str
    due_time: str = ""
    period: str = ""
    ttl: str = ""
    data: bytes | None = None  # raw JSON text stored verbatim; None = no data
    overwrite: bool = True
    failure_policy: common_pb2.JobFailurePolicy | None = None


@dataclass(frozen=True)
class ReminderView:
    """A stored reminder as Get/List report it (daprd's api.Reminder)."""

    actor_type: str
    actor_id: str
    name: str
    due_time: str  # as registered; "" when none
    period: str  # scheduler form ("@every 10s"); "" for one-shot reminders
    ttl: str  # RFC3339Nano when the stored ttl is absolute; "" otherwise (daprd cannot report relative ones)
    data: any_pb2.Any | None


# ---------------------------------------------------------------------------------------------- requests


def _string_member(members: list[RawMember], name: str) -> str:
    member = find_member(members, name)
    if member is None or member.value is None:
        return ""
    if not isinstance(member.value, str):
        raise actor_errors.malformed_request(
            f"json: cannot unmarshal {member.raw[:20]} into field {name} of type string"
        )
    return member.value


def parse_http_reminder(actor_type: str, actor_id: str, name: str, body: bytes) -> ReminderSpec:
    """The JSON body of ``PUT|POST /v1.0/actors/{type}/{id}/reminders/{name}`` → ReminderSpec.

    Raises ActorApiError: 400 ERR_MALFORMED_REQUEST for bad JSON or a field of the wrong type.
    """
    try:
        members = object_members(body)
    except RawJsonError as err:
        raise actor_errors.malformed_request(str(err)) from err
    members = members or []
    data_member = find_member(members, "data")
    data = data_member.raw.encode("utf-8") if data_member is not None else None
    overwrite_member = find_member(members, "overwrite")
    overwrite = True
    if overwrite_member is not None and overwrite_member.value is not None:
        if not isinstance(overwrite_member.value, bool):
            raise actor_errors.malformed_request("json: cannot unmarshal overwrite into a bool")
        overwrite = overwrite_member.value
    # daprd itself reads only `failure_policy` (and cannot decode it); the Python SDK sends `failurePolicy`.
    policy_member = find_member(members, "failurePolicy") or find_member(members, "failure_policy")
    policy = None
    if policy_member is not None and policy_member.value is not None:
        policy = failure_policy_from_json(policy_member.value)
    return ReminderSpec(
        actor_type=actor_type,
        actor_id=actor_id,
        name=name,
        due_time=_string_member(members, "dueTime"),
        period=_string_member(members, "period"),
        ttl=_string_member(members, "ttl"),
        data=data,
        overwrite=overwrite,
        failure_policy=policy,
    )


def grpc_bytes_as_json(raw: bytes) -> bytes | None:
    """Go's ``json.Marshal([]byte)``: the base64 of the bytes as a JSON string; empty bytes mean no data."""
    if not raw:
        return None
    return json.dumps(base64.b64encode(raw).decode("ascii")).encode("ascii")


def reminder_from_grpc(req: actors_pb2.RegisterActorReminderRequest) -> ReminderSpec:
    policy = None
    if req.HasField("failure_policy"):
        policy = common_pb2.JobFailurePolicy()
        policy.CopyFrom(req.failure_policy)
    return ReminderSpec(
        actor_type=req.actor_type,
        actor_id=req.actor_id,
        name=req.name,
        due_time=req.due_time,
        period=req.period,
        ttl=req.ttl,
        data=grpc_bytes_as_json(req.data),
        overwrite=req.overwrite if req.HasField("overwrite") else True,
        failure_policy=policy,
    )


def failure_policy_from_json(value: object) -> common_pb2.JobFailurePolicy:
    """``{"drop":{}}`` or ``{"constant":{"interval":"2s"|"0h0m2s0ms0μs","maxRetries"|"max_retries":3}}``."""
    if not isinstance(value, dict):
        raise actor_errors.malformed_request("failure policy must be an object")
    if "drop" in value:
        return common_pb2.JobFailurePolicy(drop=common_pb2.JobFailurePolicyDrop())
    constant = value.get("constant")
    if not isinstance(constant, dict):
        raise actor_errors.malformed_request(f"unsupported reminder failure policy: {json.dumps(value)}")
    proto_constant = common_pb2.JobFailurePolicyConstant()
    interval = constant.get("interval")
    if interval is not None:
        if not isinstance(interval, str):
            raise actor_errors.malformed_request("failure policy interval must be a duration string")
        try:
            interval_ns = go_duration.parse_go_duration(interval)
        except ValueError as err:
            raise actor_errors.malformed_request(f"failure policy interval: {err}") from err
        proto_constant.interval.CopyFrom(_duration(interval_ns))
    retries = constant.get("maxRetries", constant.get("max_retries"))
    if retries is not None:
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise actor_errors.malformed_request("failure policy maxRetries must be a non-negative integer")
        proto_constant.max_retries = retries
    return common_pb2.JobFailurePolicy(constant=proto_constant)


def _duration(ns: int) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.seconds, d.nanos = divmod(ns, 1_000_000_000)
    return d


# ---------------------------------------------------------------------------------------------- validation


def schedule_from_period(period: str) -> tuple[str | None, int | None]:
    """``period`` → (``"@every <dur>"``, repeats). Empty → (None, None). Raises ValueError with a clear message."""
    if not period:
        return None, None
    interval_ns, repeats = timefields.parse_period(period)
    if interval_ns <= 0:
        raise ValueError(f"unsupported period format: {period}: the period must be greater than zero")
    return "@every " + go_duration.format_go_duration(interval_ns), repeats


def validate(spec: ReminderSpec, now_ns: int) -> None:
    """Everything about a reminder that can be checked without the scheduler; raises ActorApiError.

    The scheduler validates again (and its text comes back as ERR_ACTOR_REMINDER_CREATE too); checking here
    first gives the documented error without a round trip and keeps bad input away from the store.
    """
    if not spec.name:
        raise actor_errors.bad_request("reminder name cannot be empty")
    try:
        due_ns = timefields.parse_point_in_time(spec.due_time, now_ns, "due time") if spec.due_time else now_ns
        schedule, _ = schedule_from_period(spec.period)
        if not spec.due_time and schedule is None:
            raise ValueError("job must have either a due time or a schedule")
        if spec.ttl:
            if schedule is None:
                raise ValueError("job must have a schedule to have a ttl")
            expiry_ns = timefields.parse_point_in_time(spec.ttl, due_ns, "ttl")
            if spec.due_time and due_ns > expiry_ns:
                raise ValueError("ttl must be greater than due time")
    except ValueError as err:
        raise actor_errors.reminder_create(str(err)) from err


# ---------------------------------------------------------------------------------------------- jobs


def job_metadata(app_id: str, namespace: str, actor_type: str, actor_id: str = "") -> scheduler_pb2.JobMetadata:
    return scheduler_pb2.JobMetadata(
        app_id=app_id,
        namespace=namespace,
        target=scheduler_pb2.JobTargetMetadata(actor=scheduler_pb2.TargetActorReminder(id=actor_id, type=actor_type)),
    )


def data_any(raw_json: bytes | None) -> any_pb2.Any | None:
    if raw_json is None:
        return None
    packed = any_pb2.Any()
    packed.Pack(wrappers_pb2.BytesValue(value=raw_json))
    return packed


def to_job(spec: ReminderSpec) -> scheduler_pb2.Job:
    """The scheduler Job for a validated reminder."""
    schedule, repeats = schedule_from_period(spec.period)
    job = scheduler_pb2.Job()
    if schedule is not None:
        job.schedule = schedule
    if repeats is not None:
        job.repeats = repeats
    if spec.due_time:
        job.due_time = spec.due_time
    if spec.ttl:
        job.ttl = spec.ttl
    data = data_any(spec.data)
    if data is not None:
        job.data.CopyFrom(data)
    if spec.failure_policy is not None:
        job.failure_policy.CopyFrom(spec.failure_policy)
    return job


def schedule_request(
    spec: ReminderSpec, app_id: str, namespace: str, now_ns: int
) -> scheduler_pb2.ScheduleJobRequest:
    validate(spec, now_ns)
    return scheduler_pb2.ScheduleJobRequest(
        name=spec.name,
        job=to_job(spec),
        metadata=job_metadata(app_id, namespace, spec.actor_type, spec.actor_id),
        overwrite=spec.overwrite,
    )


def view_from_job(actor_type: str, actor_id: str, name: str, job: scheduler_pb2.Job) -> ReminderView:
    ttl = ""
    if job.HasField("ttl"):
        try:
            ttl = rfc3339.format_rfc3339(rfc3339.parse_rfc3339(job.ttl))
        except ValueError:
            ttl = ""  # a relative ttl cannot be reported back (daprd logs and leaves it zero too)
    data = None
    if job.HasField("data"):
        data = any_pb2.Any()
        data.CopyFrom(job.data)
    return ReminderView(
        actor_type=actor_type,
        actor_id=actor_id,
        name=name,
        due_time=job.due_time if job.HasField("due_time") else "",
        period=job.schedule if job.HasField("schedule") else "",
        ttl=ttl,
        data=data,
    )


# ---------------------------------------------------------------------------------------------- rendering


def data_json(data: any_pb2.Any | None) -> bytes | None:
    """The JSON text daprd renders for a stored reminder ``data`` Any (None = no data)."""
    if data is None:
        return None
    if data.type_url == BYTES_VALUE_TYPE_URL or data.type_url.endswith("/google.protobuf.BytesValue"):
        value = wrappers_pb2.BytesValue()
        data.Unpack(value)
        return go_compact(value.value) if value.value else None
    if not data.type_url:
        return go_compact(data.value) if data.value else None
    # Any other type is rendered as protojson, the way daprd does for non-BytesValue payloads.
    try:
        return json.dumps(json_format.MessageToDict(data), separators=(",", ":")).encode()
    except Exception:  # an Any whose type we cannot resolve: give its bytes as base64, like Go's []byte
        return json.dumps(base64.b64encode(data.value).decode()).encode()


def fire_body(data: any_pb2.Any | None) -> bytes:
    """``PUT /actors/{t}/{id}/method/remind/{name}`` body: data (omitted if none), dueTime and period always ""."""
    raw = data_json(data)
    prefix = b'{"data":' + raw + b"," if raw is not None else b"{"
    return prefix + b'"dueTime":"","period":""}'


def http_get_body(view: ReminderView) -> bytes:
    """GET reminder: ``{"actorID","actorType","data","dueTime","period","ttl"}`` with Go's omitempty."""
    parts: list[bytes] = []
    if view.actor_id:
        parts.append(b'"actorID":' + json.dumps(view.actor_id).encode())
    if view.actor_type:
        parts.append(b'"actorType":' + json.dumps(view.actor_type).encode())
    raw = data_json(view.data)
    if raw is not None:
        parts.append(b'"data":' + raw)
    for key, value in (("dueTime", view.due_time), ("period", view.period), ("ttl", view.ttl)):
        if value:
            parts.append(f'"{key}":'.encode() + json.dumps(value).encode())
    return b"{" + b",".join(parts) + b"}"


def grpc_get_response(view: ReminderView) -> actors_pb2.GetActorReminderResponse:
    resp = actors_pb2.GetActorReminderResponse(actor_type=view.actor_type, actor_id=view.actor_id)
    if view.due_time:
        resp.due_time = view.due_time
    if view.period:
        resp.period = view.period
    if view.ttl:
        resp.ttl = view.ttl
    if view.data is not None:
        resp.data.CopyFrom(view.data)
    return resp


def grpc_named_reminder(view: ReminderView) -> actors_pb2.NamedActorReminder:
    reminder = actors_pb2.ActorReminder(actor_type=view.actor_type, actor_id=view.actor_id)
    if view.due_time:
        reminder.due_time = view.due_time
    if view.period:
        reminder.period = view.period
    if view.ttl:
        reminder.ttl = view.ttl
    if view.data is not None:
        reminder.data.CopyFrom(view.data)
    return actors_pb2.NamedActorReminder(name=view.name, reminder=reminder)

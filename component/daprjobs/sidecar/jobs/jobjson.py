"""The JSON forms of a job, following Go protojson as daprd uses it.

- ``parse_job_http_body``: the ``POST /v1.0/jobs/{name}`` body (daprd's ``JobHTTPRequest``, parsed with
  ``DiscardUnknown``): lowerCamel or proto names, ``data`` any JSON value (a ``google.protobuf.Value``).
- ``render_job``: the ``GET`` response (protojson, unpopulated fields omitted, lowerCamel names).
- ``render_value``: a ``google.protobuf.Value`` as protojson prints it (integral numbers without ``.0``),
  also the body of an HTTP job trigger.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import jobs_pb2
from google.protobuf import any_pb2, json_format, struct_pb2
from google.protobuf.message import DecodeError

VALUE_TYPE_URL = "type.googleapis.com/google.protobuf.Value"
_UINT32_MAX = 2**32 - 1


class JobJSONError(ValueError):
    """The body is not a valid job (the text follows ``failed deserializing HTTP body: ``)."""


class JobRenderError(ValueError):
    """The job cannot be written as JSON (daprd answers 500 ERR_INTERNAL)."""


@dataclass
class JobHTTPRequest:
    """The parsed POST body; ``None`` means the field was absent (or JSON null)."""

    name: str | None = None
    schedule: str | None = None
    repeats: int | None = None
    due_time: str | None = None
    ttl: str | None = None
    data: struct_pb2.Value | None = None
    overwrite: bool = False
    failure_policy: common_pb2.JobFailurePolicy | None = None

    def to_job(self, name: str) -> jobs_pb2.Job:
        """The runtime ``Job`` daprd builds; ``data`` becomes ``Any(google.protobuf.Value)``."""
        job = jobs_pb2.Job(name=name)
        if self.schedule is not None:
            job.schedule = self.schedule
        if self.repeats is not None:
            job.repeats = self.repeats
        if self.due_time is not None:
            job.due_time = self.due_time
        if self.ttl is not None:
            job.ttl = self.ttl
        if self.data is not None:
            job.data.Pack(self.data)
        if self.failure_policy is not None:
            job.failure_policy.CopyFrom(self.failure_policy)
        return job


def _field(obj: dict[str, Any], camel: str, snake: str) -> Any:
    if camel in obj and snake in obj and camel != snake:
        raise JobJSONError(f'duplicate field "{snake}"')
    return obj.get(camel, obj.get(snake))


def _string(obj: dict[str, Any], camel: str, snake: str | None = None) -> str | None:
    value = _field(obj, camel, snake or camel)
    if value is None:
        return None
    if not isinstance(value, str):
        raise JobJSONError(f"invalid value for string field {camel}: {json.dumps(value)}")
    return value


def _uint32(obj: dict[str, Any], name: str) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    number: Any = value
    if isinstance(value, str):
        try:
            number = json.loads(value)
        except ValueError as exc:
            raise JobJSONError(f"invalid value for uint32 field {name}: {json.dumps(value)}") from exc
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise JobJSONError(f"invalid value for uint32 field {name}: {json.dumps(value)}")
    if isinstance(number, float):
        if not number.is_integer():
            raise JobJSONError(f"invalid value for uint32 field {name}: {json.dumps(value)}")
        number = int(number)
    if not 0 <= number <= _UINT32_MAX:
        raise JobJSONError(f"invalid value for uint32 field {name}: {json.dumps(value)}")
    return int(number)


def _parse_data(value: Any) -> struct_pb2.Value:
    # protobuf refuses messages nested over 100 levels ("Message too deep"): a client error, not a crash.
    try:
        return json_format.ParseDict(value, struct_pb2.Value())
    except (json_format.ParseError, RecursionError) as exc:
        raise JobJSONError(f"invalid data: {str(exc) or 'nested too deeply'}") from None


def parse_job_http_body(body: bytes) -> JobHTTPRequest:
    """Parse a job POST body; an empty body is ``{}`` (daprd parses only non-empty bodies)."""
    if not body:
        return JobHTTPRequest()
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise JobJSONError(f"syntax error: {exc}") from exc
    except RecursionError:
        raise JobJSONError("JSON nested too deeply") from None
    if not isinstance(obj, dict):
        raise JobJSONError(f"unexpected token {json.dumps(obj)[:40]}, expected a JSON object")
    req = JobHTTPRequest(
        name=_string(obj, "name"),
        schedule=_string(obj, "schedule"),
        repeats=_uint32(obj, "repeats"),
        due_time=_string(obj, "dueTime", "due_time"),
        ttl=_string(obj, "ttl"),
    )
    overwrite = obj.get("overwrite")
    if overwrite is not None:
        if not isinstance(overwrite, bool):
            raise JobJSONError(f"invalid value for bool field overwrite: {json.dumps(overwrite)}")
        req.overwrite = overwrite
    if "data" in obj:
        # JSON null is a Value too (null_value), so a present "data" is always stored.
        req.data = _parse_data(obj["data"])
    policy = _field(obj, "failurePolicy", "failure_policy")
    if policy is not None:
        try:
            req.failure_policy = json_format.ParseDict(
                policy, common_pb2.JobFailurePolicy(), ignore_unknown_fields=True
            )
        except json_format.ParseError as exc:
            raise JobJSONError(f"invalid failurePolicy: {exc}") from exc
    return req


def _format_number(value: float) -> str:
    """A double as protojson writes it (encoding/json rules): 'f' form unless tiny or huge."""
    if math.isnan(value):
        return '"NaN"'
    if math.isinf(value):
        return '"Infinity"' if value > 0 else '"-Infinity"'
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = repr(value)  # shortest round-trip digits in e-form, e.g. 1.5e-07
        mantissa, _, exponent = text.partition("e")
        sign = exponent[0]
        digits = exponent[1:].lstrip("0") or "0"
        return f"{mantissa}e{sign}{digits}"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _value_to_text(value: struct_pb2.Value) -> str:
    kind = value.WhichOneof("kind")
    if kind == "null_value":
        return "null"
    if kind == "number_value":
        return _format_number(value.number_value)
    if kind == "string_value":
        return json.dumps(value.string_value, ensure_ascii=False)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "struct_value":
        return _struct_to_text(value.struct_value)
    if kind == "list_value":
        return "[" + ",".join(_value_to_text(v) for v in value.list_value.values) + "]"
    raise JobRenderError("google.protobuf.Value: none of the oneof fields is set")


def _struct_to_text(struct: struct_pb2.Struct) -> str:
    items = sorted(struct.fields.items())
    return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_value_to_text(v)}" for k, v in items) + "}"


def render_value(value: struct_pb2.Value) -> bytes:
    """protojson of a Value; a Value with no kind has no JSON form (JobRenderError)."""
    return _value_to_text(value).encode()


def unpack_value(data: any_pb2.Any) -> struct_pb2.Value:
    value = struct_pb2.Value()
    try:
        value.ParseFromString(data.value)
    except DecodeError as exc:
        raise JobRenderError(f"cannot decode google.protobuf.Value: {exc}") from exc
    return value


def http_trigger_body(data: any_pb2.Any | None) -> bytes:
    """The body of ``POST /job/<name>`` (daprd constructJobRequest): Value → its JSON, else raw trimmed bytes."""
    if data is None:
        return b""
    if data.type_url == VALUE_TYPE_URL:
        value = unpack_value(data)
        if value.WhichOneof("kind") is None:
            return b""
        return render_value(value)
    return data.value.strip()


def _render_any(data: any_pb2.Any) -> str:
    if not data.type_url:
        if data.value:
            raise JobRenderError("invalid empty type URL")
        return "{}"
    if data.type_url == VALUE_TYPE_URL:
        inner = _value_to_text(unpack_value(data))
        return '{"@type":' + json.dumps(data.type_url) + ',"value":' + inner + "}"
    try:
        as_dict = json_format.MessageToDict(data)
    except (json_format.Error, TypeError, KeyError, DecodeError) as exc:
        raise JobRenderError(f"unable to resolve {data.type_url!r}: {exc}") from exc
    return json.dumps(as_dict, separators=(",", ":"), ensure_ascii=False)


def render_job(job: jobs_pb2.Job) -> bytes:
    """The GET body: fields in proto order, absent ones omitted, ``data`` as an Any in JSON."""
    parts: list[str] = []
    if job.name:
        parts.append(f'"name":{json.dumps(job.name, ensure_ascii=False)}')
    if job.HasField("schedule"):
        parts.append(f'"schedule":{json.dumps(job.schedule, ensure_ascii=False)}')
    if job.HasField("repeats"):
        parts.append(f'"repeats":{job.repeats}')
    if job.HasField("due_time"):
        parts.append(f'"dueTime":{json.dumps(job.due_time, ensure_ascii=False)}')
    if job.HasField("ttl"):
        parts.append(f'"ttl":{json.dumps(job.ttl, ensure_ascii=False)}')
    if job.HasField("data"):
        parts.append(f'"data":{_render_any(job.data)}')
    if job.HasField("failure_policy"):
        policy = json_format.MessageToDict(job.failure_policy)
        parts.append(f'"failurePolicy":{json.dumps(policy, separators=(",", ":"))}')
    return ("{" + ",".join(parts) + "}").encode()

"""Dapr's error shapes: kit errors (gRPC status + ErrorInfo, HTTP JSON with details) and legacy ones."""

from __future__ import annotations

import json

import grpc
from daprjobs.sidecar.errors import (
    KitError,
    body_read_error,
    go_rpc_error_text,
    grpc_code_from_http,
    http_status_from_grpc,
    unauthenticated,
)
from google.rpc import error_details_pb2, status_pb2


def test_kit_error_http_body_has_error_info_detail() -> None:
    err = KitError(grpc.StatusCode.INVALID_ARGUMENT, 400, "Schedule is empty", "DAPR_SCHEDULER_SCHEDULE_EMPTY",
                   {"appID": "a", "namespace": "default"})
    body = json.loads(err.http_body())
    assert body == {
        "errorCode": "DAPR_SCHEDULER_SCHEDULE_EMPTY",
        "message": "Schedule is empty",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "domain": "dapr.io",
                     "metadata": {"appID": "a", "namespace": "default"},
                     "reason": "DAPR_SCHEDULER_SCHEDULE_EMPTY"}],
    }
    assert list(body) == ["errorCode", "message", "details"]


def test_kit_error_grpc_status_carries_one_error_info() -> None:
    err = KitError(grpc.StatusCode.INTERNAL, 500, "boom", "DAPR_SCHEDULER_GET_JOB", {"appID": "a"})
    [(key, raw)] = err.grpc_trailing_metadata()
    assert key == "grpc-status-details-bin"
    status = status_pb2.Status.FromString(raw)
    assert status.code == grpc.StatusCode.INTERNAL.value[0] and status.message == "boom"
    assert len(status.details) == 1
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.domain, dict(info.metadata)) == ("DAPR_SCHEDULER_GET_JOB", "dapr.io", {"appID": "a"})


def test_legacy_error_has_no_details() -> None:
    body = json.loads(body_read_error("stream too large").http_body())
    assert body == {"errorCode": "ERR_BODY_READ", "message": "failed to read request body: stream too large"}


def test_go_texts_and_code_maps() -> None:
    assert go_rpc_error_text(grpc.StatusCode.ALREADY_EXISTS, "x") == "rpc error: code = AlreadyExists desc = x"
    assert http_status_from_grpc(grpc.StatusCode.ALREADY_EXISTS) == 409
    assert http_status_from_grpc(grpc.StatusCode.INTERNAL) == 500
    assert grpc_code_from_http(204) == grpc.StatusCode.OK
    assert grpc_code_from_http(404) == grpc.StatusCode.NOT_FOUND
    assert grpc_code_from_http(400) == grpc.StatusCode.INTERNAL
    assert grpc_code_from_http(418) == grpc.StatusCode.UNKNOWN


def test_unauthenticated_matches_daprd() -> None:
    err = unauthenticated("missing api token in request metadata")
    assert err.grpc_code == grpc.StatusCode.UNAUTHENTICATED and err.message == "Unauthorized"
    assert err.metadata == {"http.code": "401", "http.error_message": "missing api token in request metadata"}


def test_html_characters_are_escaped_like_go() -> None:
    err = KitError(grpc.StatusCode.INTERNAL, 500, "a<b>&c", "R", {})
    assert b"a\\u003cb\\u003e\\u0026c" in err.http_body()

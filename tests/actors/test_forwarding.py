"""Sidecar-to-sidecar forwarding helpers (pure): errors and timers survive the hop unchanged."""

from __future__ import annotations

import grpc
from daprjobs.actors import actor_errors
from daprjobs.actors.actor_app_channel import AppResponse, forwardable_headers, is_reminder_cancel
from daprjobs.actors.forwarding import actor_error_from, actor_error_response, timer_from_json, timer_to_json
from daprjobs.actors.timers import TimerSpec


def test_actor_errors_cross_the_hop() -> None:
    for err in (actor_errors.stack_depth_exceeded(), actor_errors.invoke_failed("boom"), actor_errors.bad_request("x")):
        back = actor_error_from(actor_error_response(err))
        assert back is not None
        assert (back.http_status, back.grpc_code, back.error_code, back.message) == (
            err.http_status, err.grpc_code, err.error_code, err.message)
    assert actor_error_from(AppResponse(500, b"app said no")) is None
    odd = actor_error_from(AppResponse(500, b"not json", [("X-Daprjobs-Actor-Error", "NOPE")]))
    assert odd is not None and odd.grpc_code == grpc.StatusCode.INTERNAL


def test_timers_cross_the_hop() -> None:
    for spec in (TimerSpec("T", "1", "t", "cb", b'{"a":1}', "1s", "R2/PT1S", "10s"), TimerSpec("T", "1", "t")):
        assert timer_from_json(timer_to_json(spec)) == spec


def test_headers_and_cancel() -> None:
    headers = [("Host", "x"), ("Content-Type", "application/json"), ("dapr-api-token", "secret"),
               ("Dapr-Reentrancy-Id", "r"), ("Content-Length", "3"), ("X-Custom", "1")]
    assert forwardable_headers(headers) == [("Content-Type", "application/json"), ("Dapr-Reentrancy-Id", "r"),
                                            ("X-Custom", "1")]
    assert is_reminder_cancel(AppResponse(200, b"", [("x-daprremindercancel", "True")]))
    assert not is_reminder_cancel(AppResponse(200, b"", [("X-DaprReminderCancel", "false")]))
    assert not is_reminder_cancel(AppResponse(200))

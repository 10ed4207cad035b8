"""gRPC channel settings for the sidecar's Scheduler connections."""

from __future__ import annotations

from typing import Any

import grpc

from daprjobs.security.link import PLAINTEXT, SchedulerLinkSecurity

CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
    # grpc's own reconnect backoff grows to minutes by default; keep it close to daprd's (max 3 s).
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.min_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 3000),
    # daprd's keepalive (3 s / 5 s): a scheduler that vanishes without closing its sockets is noticed quickly.
    ("grpc.keepalive_time_ms", 3000),
    ("grpc.keepalive_timeout_ms", 5000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]


def scheduler_channel(address: str, security: SchedulerLinkSecurity = PLAINTEXT) -> grpc.aio.Channel:
    """A channel to one Scheduler replica: plaintext by default, else TLS/mTLS and the token from ``security``."""
    return security.open_channel(address, CHANNEL_OPTIONS)


def rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)

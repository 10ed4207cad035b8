"""The gRPC channel from the sidecar to its app, shared by the blocks that call the app (invocation, job
triggers, pub/sub delivery).

Messages up to the sidecar's body limit (``max_body_size``) pass both ways. Reconnects back off from 200 ms to at
most 1 s instead of gRPC's default of up to two minutes, so an app that restarts is reached again within a second
of listening.
"""

from __future__ import annotations

import grpc


def open_app_grpc_channel(host: str, port: int, max_message_size: int) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(f"{host}:{port}", options=[
        ("grpc.max_receive_message_length", max_message_size),
        ("grpc.max_send_message_length", max_message_size),
        ("grpc.initial_reconnect_backoff_ms", 200),
        ("grpc.min_reconnect_backoff_ms", 200),
        ("grpc.max_reconnect_backoff_ms", 1000),
    ])

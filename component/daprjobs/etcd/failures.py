"""What a failed etcd call means for its caller: worth retrying, possibly applied, and how to say so cleanly.

etcd's gRPC errors carry transport details (``debug_error_string``, addresses, the Python class of the error);
callers of the scheduler API must see none of that. ``EtcdUnavailable`` is the one error the store raises when
etcd cannot be reached within a call's deadline, with a message fit for an API answer and a flag saying whether
a write may nevertheless have been applied (a request that reached etcd and whose answer was lost).
"""

from __future__ import annotations

import asyncio

import aetcd
import grpc

from daprjobs.etcd.api import ConnectionReset

# Codes after which the same request may succeed on a retry or on another member. (etcd's RESOURCE_EXHAUSTED, a
# full database or an oversized request, and its UNKNOWN errors are answers, not outages: they are not retried.)
RETRYABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                             grpc.StatusCode.CANCELLED})

# Transport texts that prove the request never left this process: no connection could be made.
_NOT_SENT_MARKERS = ("failed to connect", "connection refused", "dns resolution failed", "no route to host")
# etcd refuses these before proposing anything to raft.
_NOT_APPLIED_MARKERS = ("etcdserver: no leader", "etcdserver: not capable", "etcdserver: too many requests")


class EtcdUnavailable(ConnectionError):
    """etcd did not answer a call in time. ``maybe_applied``: the request may have reached etcd and been applied
    (only ever true for writes); otherwise it certainly was not."""

    def __init__(self, message: str, *, maybe_applied: bool) -> None:
        super().__init__(message)
        self.maybe_applied = maybe_applied


def is_retryable(exc: BaseException) -> bool:
    """A failure that a retry (on this or another endpoint) may cure."""
    if isinstance(exc, grpc.aio.AioRpcError):
        return exc.code() in RETRYABLE_CODES
    return isinstance(exc, (asyncio.TimeoutError, ConnectionError, aetcd.exceptions.ConnectionFailedError,
                            aetcd.exceptions.ConnectionTimeoutError))


def certainly_not_sent(exc: BaseException) -> bool:
    """True when the request cannot have been applied: the connection was never made, or etcd refused it before
    proposing it. A request cut off mid-flight (reset, deadline, closed channel) may have been applied."""
    if isinstance(exc, EtcdUnavailable):
        return not exc.maybe_applied
    if not isinstance(exc, grpc.aio.AioRpcError) or exc.code() != grpc.StatusCode.UNAVAILABLE:
        return False
    details = (exc.details() or "").lower()
    return any(marker in details for marker in _NOT_SENT_MARKERS + _NOT_APPLIED_MARKERS)


def describe(exc: BaseException) -> str:
    """A one-line reason without transport internals: the gRPC code name and etcd's own text when it has one."""
    if isinstance(exc, grpc.aio.AioRpcError):
        details = (exc.details() or "").strip()
        if details.startswith("etcdserver:"):
            return details
        if certainly_not_sent(exc):
            return "connection refused"
        if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
            return "no answer before the deadline"
        return f"connection lost ({exc.code().name.lower()})"
    if isinstance(exc, ConnectionReset):
        return "connection reset"
    if isinstance(exc, asyncio.TimeoutError):
        return "no answer before the deadline"
    return str(exc) or type(exc).__name__

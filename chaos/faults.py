"""The faults, one per scenario. Each injects its fault into a running ``ChaosStack`` (and undoes it where a real
operator would: restarts what was restarted in real life) and returns a note for the table."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chaos.ledger import NS
from chaos.stack import ChaosStack, steady_load
from tests.support.processes import http_ok
from tests.support.waiting import wait_until

Fault = Callable[[ChaosStack, int], Awaitable[str]]


@dataclass(frozen=True)
class Scenario:
    name: str
    fault: Fault
    etcd_members: int = 1
    seed_only: bool = False


async def replica_kill9(stack: ChaosStack, _fault_ns: int) -> str:
    stack.schedulers[0].kill()
    return "scheduler-0 kill -9; its jobs move when its lease (3 s) expires"


async def replica_sigterm(stack: ChaosStack, _fault_ns: int) -> str:
    stack.schedulers[0].terminate()
    return "scheduler-0 SIGTERM; recovery is the handover (settle in-flight, revoke the lease)"


async def etcd_sigstop(stack: ChaosStack, _fault_ns: int) -> str:
    proc = stack.deployment.etcd_proc
    assert proc is not None
    proc.signal(signal.SIGSTOP)
    await asyncio.sleep(5)
    proc.signal(signal.SIGCONT)
    return "etcd SIGSTOP for 5 s (longer than the lease TTL), then SIGCONT"


async def etcd_restart(stack: ChaosStack, _fault_ns: int) -> str:
    proc, etcd = stack.deployment.etcd_proc, stack.deployment.etcd
    assert proc is not None and etcd is not None
    proc.kill()
    await asyncio.sleep(3)
    proc.start()
    await asyncio.to_thread(wait_until, lambda: http_ok(f"{etcd.endpoint}/health"), 60, "etcd health")
    return "etcd kill -9, restarted 3 s later on its data"


async def etcd_member_kill(stack: ChaosStack, _fault_ns: int) -> str:
    cluster = stack.deployment.cluster
    assert cluster is not None
    cluster.members[0].kill()
    return "member 0 of 3 (the one every replica dialled first) kill -9, not restarted"


async def app_down(stack: ChaosStack, _fault_ns: int) -> str:
    await stack.app.stop()
    await asyncio.sleep(4)
    await stack.app.start()
    return "app stopped for 4 s, then restarted on its port"


async def sidecar_kill9(stack: ChaosStack, _fault_ns: int) -> str:
    stack.sidecar.kill()
    await asyncio.sleep(2)
    await stack.start_sidecar()
    return "sidecar kill -9, restarted 2 s later"


async def dead_seed(stack: ChaosStack, fault_ns: int) -> str:
    stack.schedulers[0].kill()
    await asyncio.sleep(1)
    # Scheduling goes on through the sidecar whose only configured scheduler is dead.
    before = len(stack.ledger.refused)
    await stack.schedule(steady_load("late", fault_ns + 4 * NS, 4, 25))
    refused = len(stack.ledger.refused) - before
    return (f"sidecar seeded with scheduler-0 only, which is killed -9; 100 more jobs scheduled through it 1 s "
            f"later: {refused} refused")


SCENARIOS = [
    Scenario("replica kill -9", replica_kill9),
    Scenario("replica SIGTERM", replica_sigterm),
    Scenario("etcd SIGSTOP 5 s", etcd_sigstop),
    Scenario("etcd restart", etcd_restart),
    Scenario("1 of 3 etcd members killed", etcd_member_kill, etcd_members=3),
    Scenario("app down 4 s", app_down),
    Scenario("sidecar kill -9", sidecar_kill9),
    Scenario("dead seed scheduler", dead_seed, seed_only=True),
]

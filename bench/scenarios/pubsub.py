"""Scenario pubsub: publish -> deliver through the sidecars on Redis Streams, and delayed publish (issue 11).

Deployed as a user runs it: etcd, a scheduler (it holds delayed messages), one redis-server, a publisher sidecar
(no app) and a subscriber sidecar in front of an aiohttp app subscribed with ``/dapr/subscribe``, both sidecars with
the same ``pubsub.redis`` component. The bench process publishes N messages with gRPC ``PublishEvent`` to the
publisher's sidecar, ``IN_FLIGHT`` at a time; each carries its publish instant, and the app records when it got
it. Figures: messages/s from the first publish to the last delivery, publish -> deliver p50/p99/max.

Ceiling, same run, same redis, same app process: the bench XADDs the same payloads to a stream, ``IN_FLIGHT`` at a
time, and the app reads them with a plain XREADGROUP / XACK loop (``bench/apps/pubsub_subscriber.py``).

Delayed publish: D messages published with ``scheduledSendTime`` spread over a window that starts a few seconds
ahead; lateness = received - scheduled time, p50/p99/max, and how many arrived early (must be none). Its floor is
the immediate publish -> deliver latency of the same run (a held message still has that path to travel).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import grpc
import redis.asyncio as aioredis
from dapr.proto.runtime.v1 import dapr_pb2_grpc, pubsub_pb2
from daprjobs.core.rfc3339 import format_rfc3339

from bench.app_probe import HttpAppProbe, Record
from bench.deployment import BenchDeployment
from bench.report import Figure, exactly
from bench.scenario import ScenarioContext
from bench.scenarios.load_loops import Operation, drive, pace
from bench.scenarios.redis_child import start_redis
from bench.stats import LatencySummary, rate_per_s
from tests.support.deployment import AppHandle

log = logging.getLogger("bench.pubsub")

IN_FLIGHT = 16
# Messages/s of the paced runs: what this 2-core machine sustains through two sidecars with room to spare.
PACED_RATE = 200
PUBSUB = "pubsub"
TOPIC = "bench-orders"
DELAYED_TOPIC = "bench-delayed"
RAW_STREAM = "bench-raw"
SUBSCRIBER_ID = "pubsub-subscriber"
PUBLISHER_ID = "pubsub-publisher"
RAW = f"raw XADD + XREADGROUP/XACK loop, same redis, {IN_FLIGHT} in flight"
IMMEDIATE = f"immediate publish->deliver at {PACED_RATE}/s, same run"
NS_PER_S = 1_000_000_000
# Delayed messages are all held before the first is due: allow this many held per second, plus a margin.
HOLD_RATE_PER_S = 250
HOLD_MARGIN_S = 2.0
STALL_S = 60.0
POLL_S = 0.5


@dataclass
class Delivery:
    """One phase as the app saw it: latencies (ns) keyed by message index, duplicates, last receive instant."""

    latency_ns: dict[int, int]
    duplicates: int
    last_recv_ns: int


def _resources(ctx: ScenarioContext, redis_address: str) -> str:
    directory = ctx.workdir / "resources"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pubsub.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n  type: pubsub.redis\n"
        f"  version: v1\n  metadata:\n  - name: redisHost\n    value: \"{redis_address}\"\n"
        "  - name: redisPassword\n    value: \"\"\n")
    return str(directory)


def _start_subscriber(ctx: ScenarioContext, stack: BenchDeployment, redis_address: str) -> AppHandle[HttpAppProbe]:
    port = stack.ports.take()
    argv = [sys.executable, "-m", "bench.apps.pubsub_subscriber", "--port", str(port), "--topic", TOPIC,
            "--topic", DELAYED_TOPIC, "--raw-redis", redis_address, "--raw-stream", RAW_STREAM]
    app = stack.start_app("app-subscriber", argv, port, HttpAppProbe(port))
    stack.wait_app(app)
    return app


def _payload(i: int, **times: int) -> bytes:
    return json.dumps({"i": i, **times}, separators=(",", ":")).encode()


def _wait_for(stack: BenchDeployment, app: AppHandle[HttpAppProbe], expected: int, what: str,
              deadline_s: float) -> int:
    """Poll the app until ``expected`` deliveries arrived (progress every few seconds); gives up at the deadline
    or when nothing arrived for ``STALL_S``. Returns how many arrived."""
    assert app.probe is not None
    deadline = time.monotonic() + deadline_s
    last_count, last_change, last_log = -1, time.monotonic(), time.monotonic()
    while True:
        count = app.probe.count()
        now = time.monotonic()
        if count >= expected:
            return count
        if count != last_count:
            last_count, last_change = count, now
        if now - last_log >= 5:
            log.info("%s: %d of %d delivered", what, count, expected)
            last_log = now
        if now >= deadline or now - last_change >= STALL_S:
            log.warning("%s: deliveries stopped at %d of %d", what, count, expected)
            return count
        for proc in stack.sup.processes:
            if proc.returncode is not None and not proc.name.startswith("py-spy"):
                raise RuntimeError(f"{proc.name} exited ({proc.returncode}) during {what}; log {proc.log_path}")
        time.sleep(POLL_S)


def _collect(ctx: ScenarioContext, app: AppHandle[HttpAppProbe], name: str, time_key: str, phase: str) -> Delivery:
    """The app's records for ``name`` (topic or stream): latency = receive - the payload's ``time_key`` instant."""
    assert app.probe is not None
    records: list[Record] = app.probe.dump(ctx.workdir / f"deliveries-{phase}.tsv")
    app.probe.reset()
    latency: dict[int, int] = {}
    duplicates, last = 0, 0
    for topic, recv_ns, data in records:
        if topic != name:
            continue
        doc = json.loads(data)
        if doc["i"] in latency:
            duplicates += 1
            continue
        latency[doc["i"]] = recv_ns - doc[time_key]
        last = max(last, recv_ns)
    return Delivery(latency, duplicates, last)


def _summary(published: dict[str, Any], delivery: Delivery, began_ns: int) -> dict[str, Any]:
    return {"publish": published, "delivered": len(delivery.latency_ns), "duplicates": delivery.duplicates,
            "rate_per_s": rate_per_s(len(delivery.latency_ns), delivery.last_recv_ns - began_ns),
            "latency": LatencySummary.of_ns(list(delivery.latency_ns.values())).as_dict()}


PublishLoop = Callable[[Operation], Awaitable[dict[str, Any]]]


def _loops(what: str, count: int, paced: int) -> list[tuple[str, PublishLoop, int]]:
    """The two loads every path gets: a burst (``IN_FLIGHT`` at a time, as fast as it answers: throughput) and a
    paced run at ``PACED_RATE`` (latency at a load it sustains; under a burst latency is mostly queueing)."""
    async def burst(op: Operation) -> dict[str, Any]:
        return await drive(f"{what} burst", op, count, IN_FLIGHT)

    async def steady(op: Operation) -> dict[str, Any]:
        return await pace(f"{what} at {PACED_RATE}/s", op, paced, PACED_RATE)

    return [("burst", burst, count), ("paced", steady, paced)]


def _phase(ctx: ScenarioContext, stack: BenchDeployment, app: AppHandle[HttpAppProbe], phase: str, name: str,
           publishing: Callable[[], Coroutine[Any, Any, dict[str, Any]]], count: int) -> dict[str, Any]:
    """Publish (``publishing``), wait for the app to have ``count`` messages of ``name``, and summarise."""
    began = time.time_ns()
    with ctx.profile(phase, stack):
        published = asyncio.run(publishing())
        _wait_for(stack, app, count, phase, 120 + count / 100)
    return _summary(published, _collect(ctx, app, name, "t", phase), began)


def _raw_phases(ctx: ScenarioContext, stack: BenchDeployment, app: AppHandle[HttpAppProbe], redis_host: str,
                redis_port: int, count: int, paced: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, loop, n in _loops("raw XADD", count, paced):
        async def publish(loop: PublishLoop = loop) -> dict[str, Any]:
            client = aioredis.Redis(host=redis_host, port=redis_port)
            try:
                return await loop(lambda i: client.xadd(RAW_STREAM, {"data": _payload(i, t=time.time_ns())}))
            finally:
                await client.aclose()

        out[label] = _phase(ctx, stack, app, f"raw-{label}", RAW_STREAM, publish, n)
    return out


async def _grpc_publish(address: str, loop: PublishLoop, request_of: Callable[[int], Any]) -> dict[str, Any]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = dapr_pb2_grpc.DaprStub(channel)
        return await loop(lambda i: stub.PublishEvent(request_of(i), timeout=30))


def _request(topic: str, data: bytes, metadata: dict[str, str] | None = None) -> pubsub_pb2.PublishEventRequest:
    return pubsub_pb2.PublishEventRequest(pubsub_name=PUBSUB, topic=topic, data=data,
                                          data_content_type="application/json", metadata=metadata or {})


def _sidecar_phases(ctx: ScenarioContext, stack: BenchDeployment, app: AppHandle[HttpAppProbe], address: str,
                    count: int, paced: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, loop, n in _loops("PublishEvent", count, paced):
        async def publish(loop: PublishLoop = loop) -> dict[str, Any]:
            return await _grpc_publish(address, loop, lambda i: _request(TOPIC, _payload(i, t=time.time_ns())))

        out[label] = _phase(ctx, stack, app, f"sidecar-{label}", TOPIC, publish, n)
    return out


def _delayed_phase(ctx: ScenarioContext, stack: BenchDeployment, app: AppHandle[HttpAppProbe], address: str,
                   count: int, window_s: float) -> dict[str, Any]:
    lead_ns = int((HOLD_MARGIN_S + count / HOLD_RATE_PER_S) * NS_PER_S)
    first_due = time.time_ns() + lead_ns
    spacing = int(window_s * NS_PER_S / count)
    returned_late = 0

    def request(i: int) -> pubsub_pb2.PublishEventRequest:
        due = first_due + i * spacing
        return _request(DELAYED_TOPIC, _payload(i, due=due), {"scheduledSendTime": format_rfc3339(due)})

    with ctx.profile("delayed", stack):
        published = asyncio.run(_grpc_publish(address, lambda op: drive("delayed PublishEvent", op, count, IN_FLIGHT),
                                              request))
        returned_late = int(time.time_ns() > first_due)
        log.info("delayed: %d held, first due in %.1fs", published["count"], (first_due - time.time_ns()) / 1e9)
        until_last_s = (first_due + count * spacing - time.time_ns()) / NS_PER_S
        _wait_for(stack, app, count, "delayed publish", max(0.0, until_last_s) + 120)
    delivery = _collect(ctx, app, DELAYED_TOPIC, "due", "delayed")
    lateness = list(delivery.latency_ns.values())
    return {"publish": published, "delivered": len(lateness), "duplicates": delivery.duplicates,
            "early": sum(1 for v in lateness if v < 0), "lateness": LatencySummary.of_ns(lateness).as_dict(),
            "holding_overran_first_due": bool(returned_late), "window_s": window_s, "lead_s": lead_ns / NS_PER_S}


def _warm_up(stack: BenchDeployment, app: AppHandle[HttpAppProbe], address: str) -> None:
    """Publish until the subscriber's sidecar delivers (its consumer group is in place), then forget those."""
    assert app.probe is not None
    for attempt in range(60):
        asyncio.run(_grpc_publish(address, lambda op: drive("warm-up", op, 1, 1),
                                  lambda _: _request(TOPIC, _payload(-1, t=time.time_ns()))))
        if _wait_for(stack, app, 1, "warm-up", 1.0) >= 1:
            break
        log.info("warm-up: no delivery yet (attempt %d)", attempt + 1)
    else:
        raise RuntimeError("the subscriber never received a warm-up message")
    time.sleep(1.0)
    app.probe.reset()


def run(ctx: ScenarioContext) -> None:
    count = ctx.count(20_000, 2_000)
    paced = ctx.count(4_000, 600)
    delayed = ctx.count(2_000, 300)
    window_s = ctx.seconds(10.0, 3.0)
    ctx.result.size.update(messages=count, in_flight=IN_FLIGHT, paced_messages=paced, paced_rate=PACED_RATE,
                           delayed_messages=delayed, delayed_window_s=window_s)
    stack = ctx.stack()
    stack.start_etcd()
    stack.start_scheduler(0)
    redis = start_redis(ctx)
    resources = ["--resources-path", _resources(ctx, redis.address)]
    app = _start_subscriber(ctx, stack, redis.address)
    stack.start_sidecar(SUBSCRIBER_ID, app.port, "http", extra_args=resources, label="sidecar-subscriber")
    publisher = stack.start_sidecar(PUBLISHER_ID, 0, "http", extra_args=resources, label="sidecar-publisher")
    stack.wait_streams(per_scheduler=2)
    ctx.watch_usage(stack)
    address = f"127.0.0.1:{publisher.grpc_port}"
    _warm_up(stack, app, address)

    log.info("pubsub: raw redis streams, %d messages in a burst, %d at %d/s", count, paced, PACED_RATE)
    raw = _raw_phases(ctx, stack, app, redis.host, redis.port, count, paced)
    log.info("pubsub: through the sidecars, %d messages in a burst, %d at %d/s", count, paced, PACED_RATE)
    sidecar = _sidecar_phases(ctx, stack, app, address, count, paced)
    log.info("pubsub: delayed publish, %d messages over %.0fs", delayed, window_s)
    held = _delayed_phase(ctx, stack, app, address, delayed, window_s)
    ctx.detail("raw", raw)
    ctx.detail("sidecar", sidecar)
    ctx.detail("delayed", held)
    _report(ctx, count, paced, raw, sidecar, held)


def _report(ctx: ScenarioContext, count: int, paced: int, raw: dict[str, Any], sidecar: dict[str, Any],
            held: dict[str, Any]) -> None:
    r = ctx.result
    burst, raw_burst = sidecar["burst"], raw["burst"]
    s_lat, r_lat, d_lat = sidecar["paced"]["latency"], raw["paced"]["latency"], held["lateness"]
    raw_paced = f"raw XADD + XREADGROUP/XACK loop, same redis, {PACED_RATE}/s"
    r.add(Figure("messages/s publish->deliver (burst)", burst["rate_per_s"], "1/s", raw_burst["rate_per_s"], RAW))
    for q in ("p50", "p99", "max"):
        r.add(Figure(f"publish->deliver {q} at {PACED_RATE}/s", s_lat[f"{q}_ms"], "ms", r_lat[f"{q}_ms"], raw_paced))
    r.add(Figure("publish->deliver p99 (burst, queueing)", burst["latency"]["p99_ms"], "ms",
                 raw_burst["latency"]["p99_ms"], RAW))
    r.add(Figure("PublishEvent calls/s (burst)", burst["publish"]["rate_per_s"], "1/s",
                 raw_burst["publish"]["rate_per_s"], f"XADD calls/s, {IN_FLIGHT} in flight"))
    r.add(Figure(f"PublishEvent p99 at {PACED_RATE}/s", sidecar["paced"]["publish"]["latency"]["p99_ms"], "ms",
                 raw["paced"]["publish"]["latency"]["p99_ms"], f"XADD p99 at {PACED_RATE}/s"))
    sent = count + paced
    r.add(Figure("messages delivered", burst["delivered"] + sidecar["paced"]["delivered"], "msgs", sent, "published",
                 **exactly(sent, "all")))
    r.add(Figure("duplicates (immediate)", burst["duplicates"] + sidecar["paced"]["duplicates"], "msgs",
                 **exactly(0, "0")))
    for q in ("p50", "p99", "max"):
        r.add(Figure(f"delayed lateness {q}", d_lat[f"{q}_ms"], "ms", s_lat[f"{q}_ms"], IMMEDIATE))
    delayed = held["publish"]["count"]
    r.add(Figure("delayed messages delivered", held["delivered"], "msgs", delayed, "held",
                 **exactly(delayed, "all")))
    r.add(Figure("delayed early", held["early"], "msgs", **exactly(0, "0")))
    r.add(Figure("delayed duplicates", held["duplicates"], "msgs", **exactly(0, "0")))
    r.add(Figure("delayed PublishEvent calls/s (held in etcd)", held["publish"]["rate_per_s"], "1/s",
                 burst["publish"]["rate_per_s"], "immediate PublishEvent calls/s"))
    _notes(ctx, sidecar, held)
    cpu = r.details.get("cpu", {}).get("sidecar-burst", {})
    for name, seconds in cpu.items():
        if name.startswith(("sidecar", "redis", "app")):
            r.add(Figure(f"{name} CPU per message", seconds * 1000 / count, "ms"))


def _notes(ctx: ScenarioContext, sidecar: dict[str, Any], held: dict[str, Any]) -> None:
    for what, outcome in (("burst", sidecar["burst"]), ("paced", sidecar["paced"]), ("delayed", held)):
        if outcome["publish"]["failed"]:
            ctx.note(f"{outcome['publish']['failed']} {what} PublishEvent calls failed: "
                     f"{outcome['publish']['first_failure']}")
    if sidecar["paced"]["publish"].get("behind_s", 0) > 1:
        ctx.note(f"the paced run fell {sidecar['paced']['publish']['behind_s']} s behind {PACED_RATE}/s: its "
                 "latencies include queueing")
    if held["holding_overran_first_due"]:
        ctx.note("holding the delayed messages overran the first due instant; the first ones show extra lateness")

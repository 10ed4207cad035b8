"""The pub/sub scenario's subscriber: an aiohttp app subscribed programmatically (``GET /dapr/subscribe``) to the
topics it is given, recording (topic, receive ns, the CloudEvent's ``data``) for every delivery.

With ``--raw-redis HOST:PORT --raw-stream NAME`` it also runs the ceiling's consumer in the same process: a plain
Redis Streams XREADGROUP / XACK loop on that stream, recording its entries the same way, so the sidecar path and
the raw broker are read by the same process. ``/bench/stats``, ``/bench/dump``, ``/bench/reset`` are the harness's
side channel (``bench.app_probe.HttpAppProbe``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

log = logging.getLogger("pubsub_subscriber")

PUBSUB = "pubsub"
RAW_GROUP = "bench-raw"
RAW_BATCH = 100


class Recorder:
    def __init__(self) -> None:
        self.records: list[tuple[str, int, str]] = []

    def add(self, name: str, data: str) -> None:
        self.records.append((name, time.time_ns(), data))

    def stats(self) -> dict[str, int]:
        return {"count": len(self.records), "last_recv_ns": self.records[-1][1] if self.records else 0}

    def dump(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as f:
            for name, recv, data in self.records:
                f.write(f"{name}\t{recv}\t{data}\n")


def build_app(topics: list[str], recorder: Recorder) -> web.Application:
    async def subscribe(_: web.Request) -> web.Response:
        return web.json_response([{"pubsubname": PUBSUB, "topic": t, "route": f"/events/{t}"} for t in topics])

    async def event(request: web.Request) -> web.Response:
        envelope = json.loads(await request.read())
        recorder.add(request.match_info["topic"], json.dumps(envelope.get("data"), separators=(",", ":")))
        return web.json_response({"status": "SUCCESS"})

    async def stats(_: web.Request) -> web.Response:
        return web.json_response(recorder.stats())

    async def dump(request: web.Request) -> web.Response:
        recorder.dump((await request.read()).decode())
        return web.json_response({})

    async def reset(_: web.Request) -> web.Response:
        recorder.records.clear()
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/dapr/subscribe", subscribe)
    app.router.add_post("/events/{topic}", event)
    app.router.add_get("/bench/stats", stats)
    app.router.add_post("/bench/dump", dump)
    app.router.add_post("/bench/reset", reset)
    return app


async def consume_raw(address: str, stream: str, recorder: Recorder) -> None:
    """XREADGROUP a batch, record it, XACK it: the least a Redis Streams consumer does per message."""
    host, _, port = address.rpartition(":")
    client = aioredis.Redis(host=host, port=int(port))
    await client.xgroup_create(stream, RAW_GROUP, id="0", mkstream=True)
    while True:
        try:
            reply: Any = await client.xreadgroup(RAW_GROUP, "raw", {stream: ">"}, count=RAW_BATCH, block=1000)
            for _, entries in reply or []:
                for _, fields in entries:
                    recorder.add(stream, fields[b"data"].decode())
                await client.xack(stream, RAW_GROUP, *(entry_id for entry_id, _ in entries))
        except aioredis.RedisError:
            log.exception("raw consumer iteration failed stream=%s", stream)
            await asyncio.sleep(0.5)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--topic", action="append", default=[])
    parser.add_argument("--raw-redis", default="")
    parser.add_argument("--raw-stream", default="")
    args = parser.parse_args()
    recorder = Recorder()
    runner = web.AppRunner(build_app(args.topic, recorder), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    if args.raw_redis:
        await consume_raw(args.raw_redis, args.raw_stream, recorder)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())

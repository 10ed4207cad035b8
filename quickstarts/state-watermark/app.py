"""State quickstart: a cron job that keeps its watermark in the state store and resumes from it after a restart.

Every tick of the `etl-batch` job (`POST /job/etl-batch`) processes the next 10 records after the watermark and
saves the new watermark with the ETag it read (first-write concurrency), so two ticks can never both advance it.

    daprjobs run --app-id etl --app-port 6005 --resources-path . -- python quickstarts/state-watermark/app.py [--demo]

With --demo the app exits after 3 batches; run it again and it resumes where it stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os

import aiohttp
from aiohttp import web

SIDECAR = f"http://127.0.0.1:{os.environ.get('DAPR_HTTP_PORT', '3500')}"
HEADERS = {"dapr-api-token": os.environ["DAPR_API_TOKEN"]} if os.environ.get("DAPR_API_TOKEN") else {}
STATE = f"{SIDECAR}/v1.0/state/statestore"
BATCH = 10


class Etl:
    def __init__(self, session: aiohttp.ClientSession, batches: int) -> None:
        self.session = session
        self.batches = batches
        self.done_batches = 0
        self.done = asyncio.Event()

    async def read_watermark(self) -> tuple[int, str | None]:
        async with self.session.get(f"{STATE}/watermark", headers=HEADERS) as resp:
            if resp.status == 204:
                return 0, None
            return int(json.loads(await resp.read())["last"]), resp.headers.get("ETag")

    async def on_job(self, request: web.Request) -> web.Response:
        last, etag = await self.read_watermark()
        records = list(range(last + 1, last + BATCH + 1))
        item: dict[str, object] = {"key": "watermark", "value": {"last": records[-1]},
                                   "options": {"concurrency": "first-write"}}
        if etag:
            item["etag"] = etag
        async with self.session.post(STATE, json=[item], headers=HEADERS) as resp:
            if resp.status == 409:
                print("another tick moved the watermark first; skipping", flush=True)
                return web.Response(status=200)
            if resp.status != 204:
                print(f"saving the watermark failed: {resp.status} {await resp.text()}", flush=True)
                return web.Response(status=500)
        print(f"batch processed: records {records[0]}..{records[-1]}, watermark now {records[-1]}", flush=True)
        self.done_batches += 1
        if self.batches and self.done_batches >= self.batches:
            self.done.set()
        return web.Response(status=200)


async def wait_for_sidecar(session: aiohttp.ClientSession) -> None:
    for _ in range(120):
        try:
            async with session.get(f"{SIDECAR}/v1.0/healthz/outbound") as resp:
                if resp.status < 300:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)
    raise SystemExit("the sidecar did not answer on " + SIDECAR)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", action="store_true", help="process 3 batches quickly, then exit")
    demo = parser.parse_args().demo or os.environ.get("DEMO") == "1"
    async with aiohttp.ClientSession() as session:
        etl = Etl(session, batches=3 if demo else 0)
        app = web.Application()
        app.router.add_post("/job/etl-batch", etl.on_job)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", int(os.environ.get("APP_PORT", "6005"))).start()
        await wait_for_sidecar(session)
        last, _ = await etl.read_watermark()
        print(f"starting from watermark {last}", flush=True)
        job = {"schedule": "@every 1s" if demo else "@every 10s", "overwrite": True}
        async with session.post(f"{SIDECAR}/v1.0/jobs/etl-batch", json=job, headers=HEADERS) as resp:
            if resp.status != 204:
                raise SystemExit(f"scheduling etl-batch failed: {resp.status} {await resp.text()}")
        if not demo:
            await asyncio.Event().wait()
        try:
            await asyncio.wait_for(etl.done.wait(), timeout=60)
        except TimeoutError:
            raise SystemExit(f"demo: only {etl.done_batches} of 3 batches ran") from None
        async with session.delete(f"{SIDECAR}/v1.0/jobs/etl-batch", headers=HEADERS) as resp:
            assert resp.status == 204, resp.status
        print(f"demo run complete: {etl.done_batches} batches", flush=True)
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())

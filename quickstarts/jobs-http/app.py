"""Jobs quickstart, HTTP: an aiohttp app that schedules jobs through the sidecar's HTTP Jobs API
(`POST /v1.0/jobs/<name>`) and receives them on `POST /job/<name>`.

    daprjobs run --app-id jobs-http --app-port 6003 --resources-path . -- python quickstarts/jobs-http/app.py [--demo]

Without --demo the reminder repeats every 10 seconds until Ctrl-C. With --demo it fires 3 times, the
one-shot cleanup once, and the app exits when all 4 deliveries have arrived.
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


class JobsApp:
    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.received: list[str] = []
        self.done = asyncio.Event()

    async def on_job(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        data = json.loads(body) if body else None
        print(f"job delivered: {name} data={json.dumps(data)}", flush=True)
        self.received.append(name)
        if self.expected and len(self.received) >= self.expected:
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


async def schedule(session: aiohttp.ClientSession, name: str, body: dict[str, object]) -> None:
    async with session.post(f"{SIDECAR}/v1.0/jobs/{name}", json=body, headers=HEADERS) as resp:
        if resp.status != 204:
            raise SystemExit(f"scheduling {name} failed: {resp.status} {await resp.text()}")
    async with session.get(f"{SIDECAR}/v1.0/jobs/{name}", headers=HEADERS) as resp:
        print(f"job scheduled: {name} -> {await resp.text()}", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", action="store_true", help="fire quickly and exit once every job was delivered")
    args = parser.parse_args()
    demo = args.demo or os.environ.get("DEMO") == "1"
    jobs = JobsApp(expected=4 if demo else 0)

    app = web.Application()
    app.router.add_post("/job/{name}", jobs.on_job)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ.get("APP_PORT", "6003"))).start()

    async with aiohttp.ClientSession() as session:
        await wait_for_sidecar(session)
        reminder: dict[str, object] = {
            "schedule": "@every 2s" if demo else "@every 10s",
            "data": {"to": "alice@example.com", "text": "stand-up in 5 minutes"},
            "overwrite": True,
        }
        if demo:
            reminder["repeats"] = 3
        await schedule(session, "send-reminder", reminder)
        await schedule(session, "cleanup", {"dueTime": "3s", "data": "remove temp files", "overwrite": True})
        if not demo:
            await asyncio.Event().wait()
        try:
            await asyncio.wait_for(jobs.done.wait(), timeout=60)
        except TimeoutError:
            raise SystemExit(f"demo: only {len(jobs.received)} of {jobs.expected} deliveries arrived") from None
        await asyncio.sleep(0.5)  # let the last acknowledgement reach the sidecar
        async with session.delete(f"{SIDECAR}/v1.0/jobs/send-reminder", headers=HEADERS) as resp:
            assert resp.status == 204, resp.status
    print(f"demo complete: {len(jobs.received)} jobs delivered", flush=True)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())

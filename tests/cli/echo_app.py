"""A tiny HTTP app for ``daprjobs run`` tests: ``GET /hello`` names the app; ``GET /ask/<other>`` asks app
``<other>`` for its ``/hello`` through this app's sidecar (service invocation), as an app would."""

from __future__ import annotations

import asyncio
import os

import aiohttp
from aiohttp import web

NAME = os.environ["APP_ID"]


async def hello(request: web.Request) -> web.Response:
    return web.Response(text=f"hello from {NAME} (caller {request.headers.get('dapr-caller-app-id', '-')})")


async def ask(request: web.Request) -> web.Response:
    other = request.match_info["other"]
    url = f"http://127.0.0.1:{os.environ['DAPR_HTTP_PORT']}/v1.0/invoke/{other}/method/hello"
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return web.Response(status=resp.status, text=await resp.text())


async def main() -> None:
    app = web.Application()
    app.router.add_get("/hello", hello)
    app.router.add_get("/ask/{other}", ask)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ["APP_PORT"])).start()
    print(f"{NAME} listening", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())

"""The invoke scenario's target app: ``POST /echo`` answers its body (aiohttp, one process)."""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web


async def echo(request: web.Request) -> web.Response:
    return web.Response(body=await request.read(), content_type="application/json")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_post("/echo", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
